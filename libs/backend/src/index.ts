// Public API of @gan/backend.
export {};
