// Public API of @gan/model.
export {};
