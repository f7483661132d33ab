/** Registers an undo step for work that just succeeded. */
export type OnUndo = (undo: () => Promise<unknown>) => void

/**
 * Runs `fn`; when it throws, the undo steps it registered run in reverse order (each one even if
 * an earlier one failed) and the original error is rethrown.
 */
export async function withRollback<T>(
  fn: (onUndo: OnUndo) => Promise<T>,
  onUndoError?: (err: unknown) => void,
): Promise<T> {
  const undos: Array<() => Promise<unknown>> = []
  try {
    return await fn((undo) => undos.push(undo))
  } catch (err) {
    for (const undo of undos.reverse()) {
      await undo().catch((undoErr: unknown) => onUndoError?.(undoErr))
    }
    throw err
  }
}
