// Public API of @gan/data.
export {};
