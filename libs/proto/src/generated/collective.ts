import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Chunk as _gan_collective_v1_Chunk, Chunk__Output as _gan_collective_v1_Chunk__Output } from './gan/collective/v1/Chunk';
import type { CollectiveClient as _gan_collective_v1_CollectiveClient, CollectiveDefinition as _gan_collective_v1_CollectiveDefinition } from './gan/collective/v1/Collective';
import type { DataChallenge as _gan_collective_v1_DataChallenge, DataChallenge__Output as _gan_collective_v1_DataChallenge__Output } from './gan/collective/v1/DataChallenge';
import type { DataHello as _gan_collective_v1_DataHello, DataHello__Output as _gan_collective_v1_DataHello__Output } from './gan/collective/v1/DataHello';
import type { DataWelcome as _gan_collective_v1_DataWelcome, DataWelcome__Output as _gan_collective_v1_DataWelcome__Output } from './gan/collective/v1/DataWelcome';
import type { OpStatus as _gan_collective_v1_OpStatus, OpStatus__Output as _gan_collective_v1_OpStatus__Output } from './gan/collective/v1/OpStatus';
import type { ProbeReply as _gan_collective_v1_ProbeReply, ProbeReply__Output as _gan_collective_v1_ProbeReply__Output } from './gan/collective/v1/ProbeReply';
import type { ProbeRequest as _gan_collective_v1_ProbeRequest, ProbeRequest__Output as _gan_collective_v1_ProbeRequest__Output } from './gan/collective/v1/ProbeRequest';
import type { PullRequest as _gan_collective_v1_PullRequest, PullRequest__Output as _gan_collective_v1_PullRequest__Output } from './gan/collective/v1/PullRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  gan: {
    collective: {
      v1: {
        Chunk: MessageTypeDefinition<_gan_collective_v1_Chunk, _gan_collective_v1_Chunk__Output>
        Collective: SubtypeConstructor<typeof grpc.Client, _gan_collective_v1_CollectiveClient> & { service: _gan_collective_v1_CollectiveDefinition }
        DataChallenge: MessageTypeDefinition<_gan_collective_v1_DataChallenge, _gan_collective_v1_DataChallenge__Output>
        DataHello: MessageTypeDefinition<_gan_collective_v1_DataHello, _gan_collective_v1_DataHello__Output>
        DataWelcome: MessageTypeDefinition<_gan_collective_v1_DataWelcome, _gan_collective_v1_DataWelcome__Output>
        FrameType: EnumTypeDefinition
        OpKind: EnumTypeDefinition
        OpStatus: MessageTypeDefinition<_gan_collective_v1_OpStatus, _gan_collective_v1_OpStatus__Output>
        Phase: EnumTypeDefinition
        ProbeReply: MessageTypeDefinition<_gan_collective_v1_ProbeReply, _gan_collective_v1_ProbeReply__Output>
        ProbeRequest: MessageTypeDefinition<_gan_collective_v1_ProbeRequest, _gan_collective_v1_ProbeRequest__Output>
        PullRequest: MessageTypeDefinition<_gan_collective_v1_PullRequest, _gan_collective_v1_PullRequest__Output>
        ReduceOp: EnumTypeDefinition
        Wire: EnumTypeDefinition
      }
    }
  }
}

