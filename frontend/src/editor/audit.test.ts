import { describe, expect, it } from 'vitest';
import { actorName, changeRows, describeEntry, describeValue } from './audit';

describe('audit entries', () => {
  it('say what changed in words', () => {
    expect(describeEntry({ kind: 'settings_changed', subject: 'settings' })).toBe('settings changed');
    expect(describeEntry({ kind: 'schedule_paused', subject: 'schedule nightly' })).toBe('schedule nightly paused');
    expect(describeEntry({ kind: 'webhook_secret_rotated', subject: 'webhook orders' })).toBe('webhook orders secret rotated');
    expect(describeEntry({ kind: 'connection_updated', subject: '' })).toBe('connection changed');
  });

  it('draw a diff as rows, secrets without values and summaries as text', () => {
    expect(
      changeRows({
        publish_gate: { from: 'off', to: 'block' },
        retention_days: { from: null, to: 30 },
        input_schema: { from: {}, to: { summary: 'an object of 2 keys, 9000 bytes', sha256: 'ab' } },
        'secret token': { changed: true },
        '…': { more: 3 },
      }),
    ).toEqual([
      { field: 'publish_gate', from: 'off', to: 'block', secret: false },
      { field: 'retention_days', from: '—', to: '30', secret: false },
      { field: 'input_schema', from: '{}', to: 'an object of 2 keys, 9000 bytes', secret: false },
      { field: 'secret token', from: '', to: '', secret: true },
      { field: '3 more fields', from: '', to: '', secret: false },
    ]);
  });

  it('show values and actors plainly', () => {
    expect(describeValue(undefined)).toBe('—');
    expect(describeValue(false)).toBe('false');
    expect(describeValue(['a'])).toBe('["a"]');
    expect(actorName('user:alice')).toBe('alice');
    expect(actorName('system:scheduler')).toBe('system:scheduler');
  });
});
