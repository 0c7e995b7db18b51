// Original file: protos/collective.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Chunk as _gan_collective_v1_Chunk, Chunk__Output as _gan_collective_v1_Chunk__Output } from '../../../gan/collective/v1/Chunk';
import type { ProbeReply as _gan_collective_v1_ProbeReply, ProbeReply__Output as _gan_collective_v1_ProbeReply__Output } from '../../../gan/collective/v1/ProbeReply';
import type { ProbeRequest as _gan_collective_v1_ProbeRequest, ProbeRequest__Output as _gan_collective_v1_ProbeRequest__Output } from '../../../gan/collective/v1/ProbeRequest';
import type { PullRequest as _gan_collective_v1_PullRequest, PullRequest__Output as _gan_collective_v1_PullRequest__Output } from '../../../gan/collective/v1/PullRequest';

export interface CollectiveClient extends grpc.Client {
  Probe(argument: _gan_collective_v1_ProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  Probe(argument: _gan_collective_v1_ProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  Probe(argument: _gan_collective_v1_ProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  Probe(argument: _gan_collective_v1_ProbeRequest, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  probe(argument: _gan_collective_v1_ProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  probe(argument: _gan_collective_v1_ProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  probe(argument: _gan_collective_v1_ProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  probe(argument: _gan_collective_v1_ProbeRequest, callback: grpc.requestCallback<_gan_collective_v1_ProbeReply__Output>): grpc.ClientUnaryCall;
  
  Pull(argument: _gan_collective_v1_PullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_gan_collective_v1_Chunk__Output>;
  Pull(argument: _gan_collective_v1_PullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_gan_collective_v1_Chunk__Output>;
  pull(argument: _gan_collective_v1_PullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_gan_collective_v1_Chunk__Output>;
  pull(argument: _gan_collective_v1_PullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_gan_collective_v1_Chunk__Output>;
  
}

export interface CollectiveHandlers extends grpc.UntypedServiceImplementation {
  Probe: grpc.handleUnaryCall<_gan_collective_v1_ProbeRequest__Output, _gan_collective_v1_ProbeReply>;
  
  Pull: grpc.handleServerStreamingCall<_gan_collective_v1_PullRequest__Output, _gan_collective_v1_Chunk>;
  
}

export interface CollectiveDefinition extends grpc.ServiceDefinition {
  Probe: MethodDefinition<_gan_collective_v1_ProbeRequest, _gan_collective_v1_ProbeReply, _gan_collective_v1_ProbeRequest__Output, _gan_collective_v1_ProbeReply__Output>
  Pull: MethodDefinition<_gan_collective_v1_PullRequest, _gan_collective_v1_Chunk, _gan_collective_v1_PullRequest__Output, _gan_collective_v1_Chunk__Output>
}
