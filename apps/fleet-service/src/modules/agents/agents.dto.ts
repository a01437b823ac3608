import type { AgentDto, AgentVersionDto, AssignmentDto, AssignmentTarget } from '@agentbox/schemas';
import type { AgentRow, AgentVersionRow } from './agent.entity.js';
import type { AssignmentRow } from './assignment.entity.js';

export function targetOf(row: Pick<AssignmentRow, 'targetType' | 'targetValue'>): AssignmentTarget {
  switch (row.targetType) {
    case 'device':
      return { type: 'device', deviceId: row.targetValue };
    case 'tag':
      return { type: 'tag', tag: row.targetValue };
    case 'all':
      return { type: 'all' };
  }
}

export function targetColumns(target: AssignmentTarget): Pick<AssignmentRow, 'targetType' | 'targetValue'> {
  switch (target.type) {
    case 'device':
      return { targetType: 'device', targetValue: target.deviceId };
    case 'tag':
      return { targetType: 'tag', targetValue: target.tag };
    case 'all':
      return { targetType: 'all', targetValue: '' };
  }
}

export function toAssignmentDto(row: AssignmentRow): AssignmentDto {
  return { id: row.id, agentId: row.agentId, target: targetOf(row), createdAt: row.createdAt.toISOString() };
}

export function toAgentDto(row: AgentRow, assignments: AssignmentRow[]): AgentDto {
  return {
    id: row.id,
    version: row.version,
    definition: row.definition,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    assignments: assignments.map(toAssignmentDto),
  };
}

export function toAgentVersionDto(row: AgentVersionRow): AgentVersionDto {
  return { version: row.version, definition: row.definition, createdAt: row.createdAt.toISOString() };
}
