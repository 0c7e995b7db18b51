// Public API of @gan/training.
export {};
