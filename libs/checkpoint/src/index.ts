// Public API of @gan/checkpoint.
export {};
