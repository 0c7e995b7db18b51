// Public API of @gan/cli.
export {};
