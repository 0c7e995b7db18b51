// Public API of @gan/proto: runtime loading of protos/*.proto plus the TypeScript types generated from them
// (regenerate with `node libs/proto/scripts/gen.mjs` after editing a .proto, and commit the result).
export { LOAD_OPTIONS, loadDefinition, loadProto, protoPath, protosDir } from './load';
export { messageCodec, type MessageCodec } from './message-codec';

// collective.proto (data plane)
export type { ProtoGrpcType as CollectiveProto } from './generated/collective';
export type { Chunk, Chunk__Output } from './generated/gan/collective/v1/Chunk';
export type { CollectiveClient, CollectiveDefinition, CollectiveHandlers } from './generated/gan/collective/v1/Collective';
export type { DataChallenge, DataChallenge__Output } from './generated/gan/collective/v1/DataChallenge';
export type { DataHello, DataHello__Output } from './generated/gan/collective/v1/DataHello';
export type { DataWelcome, DataWelcome__Output } from './generated/gan/collective/v1/DataWelcome';
export type { FrameType, FrameType__Output } from './generated/gan/collective/v1/FrameType';
export type { OpKind, OpKind__Output } from './generated/gan/collective/v1/OpKind';
export type { OpStatus, OpStatus__Output } from './generated/gan/collective/v1/OpStatus';
export type { Phase, Phase__Output } from './generated/gan/collective/v1/Phase';
export type { ProbeReply, ProbeReply__Output } from './generated/gan/collective/v1/ProbeReply';
export type { ProbeRequest, ProbeRequest__Output } from './generated/gan/collective/v1/ProbeRequest';
export type { PullRequest, PullRequest__Output } from './generated/gan/collective/v1/PullRequest';
export type { ReduceOp, ReduceOp__Output } from './generated/gan/collective/v1/ReduceOp';
export type { Wire, Wire__Output } from './generated/gan/collective/v1/Wire';

// coordinator.proto (control plane)
export type { ProtoGrpcType as CoordinatorProto } from './generated/coordinator';
export type { CoordinatorClient, CoordinatorHandlers } from './generated/gan/coordinator/v1/Coordinator';
export type { Ack, Ack__Output } from './generated/gan/coordinator/v1/Ack';
export type { DataEndpoint as DataEndpointMessage, DataEndpoint__Output as DataEndpointMessage__Output } from './generated/gan/coordinator/v1/DataEndpoint';
export type { HeartbeatReply, HeartbeatReply__Output } from './generated/gan/coordinator/v1/HeartbeatReply';
export type { HeartbeatRequest, HeartbeatRequest__Output } from './generated/gan/coordinator/v1/HeartbeatRequest';
export type { JoinReply, JoinReply__Output } from './generated/gan/coordinator/v1/JoinReply';
export type { JoinRequest, JoinRequest__Output } from './generated/gan/coordinator/v1/JoinRequest';
export type { LeaveRequest, LeaveRequest__Output } from './generated/gan/coordinator/v1/LeaveRequest';
export type { RunStatus, RunStatus__Output } from './generated/gan/coordinator/v1/RunStatus';
export type { ShutdownRequest, ShutdownRequest__Output } from './generated/gan/coordinator/v1/ShutdownRequest';
export type { StatusRequest } from './generated/gan/coordinator/v1/StatusRequest';
export type { StepReport, StepReport__Output } from './generated/gan/coordinator/v1/StepReport';
