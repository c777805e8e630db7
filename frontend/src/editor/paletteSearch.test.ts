/** Tests for the palette's search over node types and actions. */

import { describe, expect, it } from 'vitest';
import type { ActionDescription } from '../api/versions';
import { filterNodeTypes, matchActions, oneLine, queryWords } from './paletteSearch';

const types = [
  { type: 'task', palette: { title: 'Task', icon: '⚙', hint: 'Runs an action, with retries and a timeout.' } },
  { type: 'wait', palette: { title: 'Wait', icon: '⏱', hint: 'Pauses the run for a while.' } },
  { type: 'handoff', palette: { title: 'Handoff', icon: '☺', hint: 'Waits for a person or an agent to decide.' } },
];

const action = (name: string, description: string): ActionDescription => ({
  name,
  description,
  params_schema: { type: 'object' },
  side_effects: false,
});

const ACTIONS = [
  action('slack.post', 'Post a message to a Slack channel through an incoming webhook.'),
  action('http.request', 'Call an HTTP API on a connection.\nBearer, basic or API key auth.'),
  action('builtin.http', 'Call a URL (no connection).'),
  action('email.send', 'Send an email through an SMTP connection.'),
];

describe('queryWords', () => {
  it('splits on any space and lowers the case', () => {
    expect(queryWords('  HTTP   Post ')).toEqual(['http', 'post']);
    expect(queryWords('   ')).toEqual([]);
  });
});

describe('filterNodeTypes', () => {
  it('keeps every type for an empty query', () => {
    expect(filterNodeTypes(types, '')).toHaveLength(3);
  });

  it('matches the type, the title or the hint, every word', () => {
    expect(filterNodeTypes(types, 'person').map((t) => t.type)).toEqual(['handoff']);
    expect(filterNodeTypes(types, 'WAIT').map((t) => t.type)).toEqual(['wait', 'handoff']);
    expect(filterNodeTypes(types, 'wait person').map((t) => t.type)).toEqual(['handoff']);
  });
});

describe('matchActions', () => {
  it('lists no action for an empty query', () => {
    expect(matchActions(ACTIONS, ' ')).toEqual([]);
  });

  it('finds an action by a word of its description', () => {
    expect(matchActions(ACTIONS, 'smtp').map((a) => a.name)).toEqual(['email.send']);
    expect(matchActions(ACTIONS, 'channel slack').map((a) => a.name)).toEqual(['slack.post']);
  });

  it('puts actions matched by name before those matched by description, then by name', () => {
    expect(matchActions(ACTIONS, 'http').map((a) => a.name)).toEqual(['builtin.http', 'http.request']);
    expect(matchActions(ACTIONS, 'connection').map((a) => a.name)).toEqual(['builtin.http', 'email.send', 'http.request']);
  });

  it('lists at most the limit', () => {
    const many = Array.from({ length: 60 }, (_, i) => action(`demo.a${String(i).padStart(2, '0')}`, 'demo'));
    expect(matchActions(many, 'demo', 5).map((a) => a.name)).toEqual(['demo.a00', 'demo.a01', 'demo.a02', 'demo.a03', 'demo.a04']);
  });
});

describe('oneLine', () => {
  it('keeps the first line that is not blank', () => {
    expect(oneLine('\n  Call an API.\nMore detail.')).toBe('Call an API.');
    expect(oneLine('')).toBe('');
  });
});
