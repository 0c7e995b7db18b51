// Public API of @gan/config.
export {};
