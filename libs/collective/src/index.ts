// Public API of @gan/collective.
export {};
