// Public API of @gan/proto.
export {};
