// Public API of @gan/telemetry.
export {};
