// Public API of @gan/metrics.
export {};
