// Public API of @gan/coordinator.
export {};
