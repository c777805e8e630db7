/** The workflow's schedules under the top bar: list, create, change, pause, resume, delete, fires, backfill. */

import { useCallback, useState } from 'react';
import { listSchedules, type Schedule } from '../api/schedules';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { denial } from '../ui/permissions';
import { schedulesHash } from '../ui/trigger';
import { ResourceEmpty, ResourcePanel, type PanelShell } from './ResourcePanel';
import { ScheduleForm } from './ScheduleForm';
import { ScheduleItem } from './ScheduleItem';
import { useResourceList } from './useResourceList';

const SHELL: PanelShell = {
  name: 'schedules',
  title: 'Schedules',
  create: { label: 'New schedule', hint: 'Run this workflow on a timetable', testId: 'schedule-new' },
  note: 'Each run a schedule starts uses the workflow’s live version (a canary takes its share).',
};

interface SchedulesPanelProps {
  slug: string;
  /** Why the user may not create, change or delete schedules, or null. */
  editDenied: string | null;
  onClose: () => void;
}

export function SchedulesPanel({ slug, editDenied, onClose }: SchedulesPanelProps) {
  const load = useCallback(async (signal: AbortSignal) => (await listSchedules(slug, signal)).results, [slug]);
  const list = useResourceList<Schedule>(load);
  const { mode } = list;
  // A link to one schedule (the run page's trigger badge) opens its fires.
  const [open, setOpen] = useState<number | null>(() => schedulesHash(window.location.hash).id);
  const operateDenied = denial(useMe(), 'operate', 'pause, resume or backfill schedules');
  const now = useNow(30_000);
  const form = mode.kind === 'form' ? <ScheduleForm key={mode.item?.id ?? 'new'} slug={slug} schedule={mode.item} onSaved={list.saved} onCancel={list.showList} /> : null;

  return (
    <ResourcePanel shell={SHELL} editDenied={editDenied} list={list} form={form} onClose={onClose}>
      {(schedules) =>
        schedules.length === 0 ? (
          <ResourceEmpty name="schedules" addLabel="Add a schedule" editDenied={editDenied} onAdd={list.startNew}>
            <strong>No schedules yet:</strong> runs start only when someone starts them. Add a schedule to run this workflow on a timetable.
          </ResourceEmpty>
        ) : (
          <ul className="schedule-list" data-testid="schedule-list">
            {schedules.map((schedule) => (
              <ScheduleItem
                key={schedule.id}
                schedule={schedule}
                now={now}
                editDenied={editDenied}
                operateDenied={operateDenied}
                open={open === schedule.id}
                onToggle={() => setOpen((current) => (current === schedule.id ? null : schedule.id))}
                onEdit={() => list.edit(schedule)}
                onChanged={list.replace}
                onDeleted={list.remove}
              />
            ))}
          </ul>
        )
      }
    </ResourcePanel>
  );
}
