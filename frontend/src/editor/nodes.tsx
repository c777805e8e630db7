/** Canvas node components, one per node type, memoized so unchanged nodes skip renders. */

import { Handle, Position, type NodeProps, type NodeTypes } from '@xyflow/react';
import { memo, type ComponentType } from 'react';
import type { NodeType } from '../graph';
import type { FlowNode } from './flow';
import { META_BY_TYPE, nodeSummary } from './nodeMeta';

function NodeCard({ id, data, selected, type }: NodeProps<FlowNode> & { type: NodeType }) {
  const { node, errors, warnings, issueTitle, diff, onPath, testId } = data;
  const meta = META_BY_TYPE[type];
  const label = typeof node.label === 'string' && node.label ? node.label : null;
  const classes = ['wf-node', `wf-node-${type}`];
  if (selected) classes.push('is-selected');
  if (errors > 0) classes.push('has-errors');
  else if (warnings > 0) classes.push('has-warnings');
  if (diff) classes.push(`diff-${diff}`);
  if (onPath) classes.push('on-path');
  if (type === 'end' && node.status === 'failed') classes.push('wf-node-end-failed');
  return (
    <div
      className={classes.join(' ')}
      data-testid={testId}
      data-node-id={id}
      data-node-type={type}
      data-diff={diff ?? undefined}
      data-on-path={onPath ? 'true' : undefined}
      data-issues={errors > 0 ? 'error' : warnings > 0 ? 'warning' : undefined}
      title={issueTitle || undefined}
    >
      {type !== 'start' ? <Handle type="target" position={Position.Left} className="wf-handle" /> : null}
      <div className="wf-node-head">
        <span className="wf-node-icon" aria-hidden="true">
          {meta.icon}
        </span>
        <span className="wf-node-type">{meta.title}</span>
        {errors + warnings > 0 ? (
          <span
            className={`wf-node-badge ${errors > 0 ? 'is-error' : 'is-warning'}`}
            data-testid={`${testId}-issues`}
            aria-label={`${errors} errors, ${warnings} warnings`}
          >
            {errors > 0 ? errors : warnings}
          </span>
        ) : null}
        {diff ? <span className={`wf-diff-tag diff-tag-${diff}`}>{diff}</span> : null}
      </div>
      <div className="wf-node-label">{label ?? id}</div>
      <div className="wf-node-meta">
        {label ? <span className="wf-node-id">{id}</span> : null}
        <span className="wf-node-summary">{nodeSummary(node)}</span>
      </div>
      {type !== 'end' ? <Handle type="source" position={Position.Right} className="wf-handle" /> : null}
    </div>
  );
}

function nodeComponent(type: NodeType): ComponentType<NodeProps<FlowNode>> {
  const component = memo(function WorkflowNode(props: NodeProps<FlowNode>) {
    return <NodeCard {...props} type={type} />;
  });
  component.displayName = `${META_BY_TYPE[type].title}Node`;
  return component;
}

/** Stable across renders (React Flow warns when nodeTypes changes). */
export const nodeTypes: NodeTypes = {
  start: nodeComponent('start'),
  end: nodeComponent('end'),
  task: nodeComponent('task'),
  choice: nodeComponent('choice'),
  parallel: nodeComponent('parallel'),
  join: nodeComponent('join'),
  wait: nodeComponent('wait'),
  handoff: nodeComponent('handoff'),
};
