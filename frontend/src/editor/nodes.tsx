/** Canvas node components, one per node type, memoized so unchanged nodes skip renders. */

import { Handle, Position, type NodeProps, type NodeTypes } from '@xyflow/react';
import { memo, useContext, type ComponentType } from 'react';
import { nodeType, nodeTypes, type NodeType, type NodeTypeDef } from '../graph';
import { NodeRunStates } from './execution/executionContext';
import { COMPENSATION_HANDLE, type FlowNode } from './flow';
import { nodeSummary, paletteEntry } from './nodeMeta';

function NodeCard({ id, data, selected, type }: NodeProps<FlowNode> & { type: NodeType }) {
  const { node, errors, warnings, issueTitle, diff, onPath, testId } = data;
  const meta = paletteEntry(type);
  const def = nodeType(type);
  const variant = def?.canvasVariant?.(node);
  const label = typeof node.label === 'string' && node.label ? node.label : null;
  // The state of the node's latest step in the run the editor shows, if any.
  const runState = useContext(NodeRunStates)?.get(id);
  const classes = ['wf-node', `wf-node-${type}`];
  if (selected) classes.push('is-selected');
  if (errors > 0) classes.push('has-errors');
  else if (warnings > 0) classes.push('has-warnings');
  if (diff) classes.push(`diff-${diff}`);
  if (onPath) classes.push('on-path');
  if (variant) classes.push(`wf-node-${type}-${variant}`);
  return (
    <div
      className={classes.join(' ')}
      data-testid={testId}
      data-node-id={id}
      data-node-type={type}
      data-diff={diff ?? undefined}
      data-on-path={onPath ? 'true' : undefined}
      data-issues={errors > 0 ? 'error' : warnings > 0 ? 'warning' : undefined}
      data-run-state={runState}
      title={issueTitle || undefined}
    >
      {def?.edges?.incoming !== false ? <Handle type="target" position={Position.Left} className="wf-handle" /> : null}
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
        {runState ? (
          <span className={`wf-run-state badge badge-${runState}`} data-testid={`${testId}-run-state`}>
            {runState}
          </span>
        ) : null}
      </div>
      <div className="wf-node-label">{label ?? id}</div>
      <div className="wf-node-meta">
        {label ? <span className="wf-node-id">{id}</span> : null}
        <span className="wf-node-summary">{nodeSummary(node)}</span>
      </div>
      {def?.edges?.outgoing !== false ? <Handle type="source" position={Position.Right} className="wf-handle" /> : null}
      {type === 'task' ? <CompensationHandles /> : null}
    </div>
  );
}

/**
 * Where a task's dashed compensation link leaves (bottom) and enters (top): not for
 * drawing edges by hand, and after the main handles, which edges without a handle id use.
 */
function CompensationHandles() {
  return (
    <>
      <Handle type="source" position={Position.Bottom} id={COMPENSATION_HANDLE} className="wf-handle-compensation" isConnectable={false} />
      <Handle type="target" position={Position.Top} id={COMPENSATION_HANDLE} className="wf-handle-compensation" isConnectable={false} />
    </>
  );
}

function nodeComponent(type: NodeType): ComponentType<NodeProps<FlowNode>> {
  const component = memo(function WorkflowNode(props: NodeProps<FlowNode>) {
    return <NodeCard {...props} type={type} />;
  });
  component.displayName = `${paletteEntry(type).title}Node`;
  return component;
}

let cached: [readonly NodeTypeDef[], NodeTypes] | null = null;

/** Return a component per registered node type, the same object until the registry changes (React Flow warns when nodeTypes changes). */
export function flowNodeTypes(): NodeTypes {
  const defs = nodeTypes();
  if (cached === null || cached[0] !== defs) {
    cached = [defs, Object.fromEntries(defs.map((def) => [def.type, nodeComponent(def.type)]))];
  }
  return cached[1];
}
