// Public API of @gan/worker.
export {};
