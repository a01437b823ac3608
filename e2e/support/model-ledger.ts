import {
  countTestTokens,
  promptTestTokens,
  type OpenAiTestResponder,
  type RecordedRequest,
} from '@agentbox/test-support';

/**
 * The books of the OpenAI-compatible test server: the tokens of every answer it gave, so a test can
 * compare them with what the fleet counted. A call the box dropped before the answer was complete got
 * no tokens and is left out (`closedByClient`).
 */
export class ModelLedger {
  private readonly charged: Array<{ request: RecordedRequest; input: number; output: number }> = [];

  /** A responder that answers every request with `text` and books it. */
  textResponder(text: string): OpenAiTestResponder {
    return (request) => {
      this.charged.push({ request, input: promptTestTokens(request.body), output: countTestTokens(text) });
      return { kind: 'text', text };
    };
  }

  served(): { input: number; output: number; calls: number } {
    const complete = this.charged.filter((entry) => !entry.request.closedByClient);
    return {
      input: complete.reduce((sum, entry) => sum + entry.input, 0),
      output: complete.reduce((sum, entry) => sum + entry.output, 0),
      calls: complete.length,
    };
  }
}
