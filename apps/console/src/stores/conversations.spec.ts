// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '@/api/types';
import { useFleetServer } from '@/testing/fleet-server';
import { useConversationsStore } from './conversations';

const conversation = {
  id: 'c1',
  agentId: 'helper',
  deviceId: 'box-1',
  title: '',
  createdAt: '2026-12-01T10:00:00.000Z',
  lastMessageAt: null,
};

const question: ConversationMessage = {
  id: 'm1',
  role: 'user',
  text: 'How full is the disk?',
  runId: 'run-00000001',
  createdAt: '2026-12-01T10:00:01.000Z',
};

describe('conversations store', () => {
  useFleetServer((server) => {
    server.route('GET', '/api/v1/conversations', () => ({ status: 200, body: { items: [conversation] } }));
    server.route('GET', '/api/v1/conversations/c1/messages', () => ({ status: 200, body: { items: [] } }));
    server.route('POST', '/api/v1/conversations/c1/messages', () => ({
      status: 202,
      body: { id: 'm1', runId: 'run-00000001' },
    }));
    server.route('DELETE', '/api/v1/conversations/c1', () => ({
      status: 200,
      body: { id: 'c1', forgottenOnBox: false },
    }));
  });

  it('deletes the open conversation: gone from the list, nothing open, and says whether the box forgot it', async () => {
    const sut = useConversationsStore();
    await sut.fetchList('helper', 'box-1');
    await sut.select('c1');

    expect(await sut.remove('c1')).toBe(false);
    expect(sut.list).toEqual([]);
    expect(sut.openId).toBeNull();
    expect(sut.messages).toEqual([]);
  });

  it('keeps a sent message once when its live event arrives too, and thinks until the answer comes', async () => {
    const sut = useConversationsStore();
    await sut.fetchList('helper', 'box-1');
    await sut.select('c1');

    await sut.send('c1', 'How full is the disk?');
    sut.applyLiveEvent({
      type: 'conversation.message',
      conversationId: 'c1',
      deviceId: 'box-1',
      message: question,
    });
    expect(sut.messages.map((m) => m.id)).toEqual(['m1']);
    expect(sut.pending.map((m) => m.runId)).toEqual(['run-00000001']);
    expect(sut.list[0]?.title).toBe('How full is the disk?');

    sut.applyLiveEvent({
      type: 'conversation.message',
      conversationId: 'c1',
      deviceId: 'box-1',
      message: {
        ...question,
        id: 'm2',
        role: 'assistant',
        text: '42%',
        createdAt: '2026-12-01T10:00:03.000Z',
      },
    });
    expect(sut.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'How full is the disk?'],
      ['assistant', '42%'],
    ]);
    expect(sut.pending).toEqual([]);
  });

  it('ignores messages of a conversation that is not open, but notes the activity', () => {
    const sut = useConversationsStore();
    sut.list = [{ ...conversation }];
    sut.applyLiveEvent({
      type: 'conversation.message',
      conversationId: 'c1',
      deviceId: 'box-1',
      message: question,
    });
    expect(sut.messages).toEqual([]);
    expect(sut.list[0]?.lastMessageAt).toBe(question.createdAt);
  });
});
