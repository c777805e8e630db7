/** Fit the canvas's graph at a readable zoom, clear of its overlays (see canvasFit.ts). */

import { useReactFlow, useStoreApi } from '@xyflow/react';
import { useCallback } from 'react';
import { boundsOf, OVERLAY_SELECTOR, overlayInsets, readableViewport, visibleCenter, type Box, type Insets } from './canvasFit';
import { NODE_SIZE } from './nodeMeta';

export interface ReadableFit {
  /** Show the whole graph if it fits at a readable zoom, else its start; `duration` animates (ms). */
  fit: (duration?: number) => void;
  /** The flow point in the middle of the canvas's free area. */
  center: () => { x: number; y: number };
}

function box(element: Element): Box {
  const rect = element.getBoundingClientRect();
  return { x: rect.left, y: rect.top, width: rect.width, height: rect.height };
}

export function useReadableFit(): ReadableFit {
  const rf = useReactFlow();
  const store = useStoreApi();

  const measure = useCallback((): { width: number; height: number; insets: Insets } | null => {
    const { domNode, width, height } = store.getState();
    if (domNode === null || width === 0 || height === 0) return null;
    // Overlays may sit beside the flow (in the canvas wrapper) as well as inside it.
    const root = domNode.closest('.editor-canvas-wrap') ?? domNode;
    const overlays = [...root.querySelectorAll(OVERLAY_SELECTOR)].map(box);
    return { width, height, insets: overlayInsets(box(domNode), overlays) };
  }, [store]);

  const fit = useCallback(
    (duration = 0) => {
      const size = measure();
      const nodes = rf.getNodes();
      if (size === null || nodes.length === 0) return;
      // Nodes not measured yet (just opened) count at their usual size.
      const bounds = boundsOf(
        nodes.map((node) => ({
          ...node.position,
          width: node.measured?.width ?? NODE_SIZE.width,
          height: node.measured?.height ?? NODE_SIZE.height,
        })),
      );
      void rf.setViewport(readableViewport(bounds, size.width, size.height, size.insets), { duration });
    },
    [rf, measure],
  );

  const center = useCallback(() => {
    const size = measure();
    if (size === null) return rf.screenToFlowPosition({ x: 0, y: 0 });
    return visibleCenter(rf.getViewport(), size.width, size.height, size.insets);
  }, [rf, measure]);

  return { fit, center };
}
