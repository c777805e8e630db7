/** The editor page's shared states: the panel under the top bar, the request in flight, the right column (no React). */

/** The panel open under the top bar, if any. */
export type Panel = 'none' | 'versions' | 'run' | 'help' | 'publish' | 'release' | 'schedules' | 'webhooks' | 'notifications' | 'audit';

/** The request in flight that disables the other version controls. */
export type Busy = null | 'save' | 'publish' | 'rollback' | 'validate' | 'open' | 'canary';

/** The right column: the inspector, or the test cases. */
export type Side = 'inspect' | 'tests';
