// One call at a time on a device. A call of the engine is a sequence of submissions whose buffers
// (inputs, activations shared between plans, readback buffers) belong to the plans, not to the call;
// two calls interleaved at their awaits would write each other's inputs and read each other's results.
// Calls queue here in the order they were made; a failed call releases the queue like any other.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once every call queued before it has settled. `work` must not queue on the same queue. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
