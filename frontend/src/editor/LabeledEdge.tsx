/** A canvas edge whose label is drawn above the nodes (in React Flow's label layer), where nodes cannot hide it. */

import { BaseEdge, EdgeLabelRenderer, getBezierPath, useStoreApi, type EdgeProps, type EdgeTypes } from '@xyflow/react';
import { memo, type MouseEvent } from 'react';
import type { FlowEdge } from './flow';

export const LabeledEdge = memo(function LabeledEdge({
  id,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition,
  targetPosition,
  label,
  markerEnd,
  style,
  data,
  selected,
  selectable,
  interactionWidth,
}: EdgeProps<FlowEdge>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const store = useStoreApi();
  const text = typeof label === 'string' || typeof label === 'number' ? String(label) : '';
  // A click on the label selects its edge, as a click on the line does.
  const onClick = (event: MouseEvent) => {
    if (selectable === false) return;
    event.stopPropagation();
    store.getState().addSelectedEdges([id]);
  };
  const classes = ['wf-edge-label', ...(data?.labelClass ?? [])];
  if (selected) classes.push('is-selected');
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={interactionWidth} />
      {text ? (
        <EdgeLabelRenderer>
          <div
            className={classes.join(' ')}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            onClick={onClick}
            title={data?.fullLabel ?? text}
            data-testid={`edge-label-${id}`}
          >
            {text}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
});

/** The canvas's edge types: every edge without a `type` is a LabeledEdge. */
export const LABELED_EDGE_TYPES: EdgeTypes = { default: LabeledEdge };
