import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _gan_coordinator_v1_Ack, Ack__Output as _gan_coordinator_v1_Ack__Output } from './gan/coordinator/v1/Ack';
import type { CoordinatorClient as _gan_coordinator_v1_CoordinatorClient, CoordinatorDefinition as _gan_coordinator_v1_CoordinatorDefinition } from './gan/coordinator/v1/Coordinator';
import type { DataEndpoint as _gan_coordinator_v1_DataEndpoint, DataEndpoint__Output as _gan_coordinator_v1_DataEndpoint__Output } from './gan/coordinator/v1/DataEndpoint';
import type { HeartbeatReply as _gan_coordinator_v1_HeartbeatReply, HeartbeatReply__Output as _gan_coordinator_v1_HeartbeatReply__Output } from './gan/coordinator/v1/HeartbeatReply';
import type { HeartbeatRequest as _gan_coordinator_v1_HeartbeatRequest, HeartbeatRequest__Output as _gan_coordinator_v1_HeartbeatRequest__Output } from './gan/coordinator/v1/HeartbeatRequest';
import type { JoinReply as _gan_coordinator_v1_JoinReply, JoinReply__Output as _gan_coordinator_v1_JoinReply__Output } from './gan/coordinator/v1/JoinReply';
import type { JoinRequest as _gan_coordinator_v1_JoinRequest, JoinRequest__Output as _gan_coordinator_v1_JoinRequest__Output } from './gan/coordinator/v1/JoinRequest';
import type { LeaveRequest as _gan_coordinator_v1_LeaveRequest, LeaveRequest__Output as _gan_coordinator_v1_LeaveRequest__Output } from './gan/coordinator/v1/LeaveRequest';
import type { RunStatus as _gan_coordinator_v1_RunStatus, RunStatus__Output as _gan_coordinator_v1_RunStatus__Output } from './gan/coordinator/v1/RunStatus';
import type { ShutdownRequest as _gan_coordinator_v1_ShutdownRequest, ShutdownRequest__Output as _gan_coordinator_v1_ShutdownRequest__Output } from './gan/coordinator/v1/ShutdownRequest';
import type { StatusRequest as _gan_coordinator_v1_StatusRequest, StatusRequest__Output as _gan_coordinator_v1_StatusRequest__Output } from './gan/coordinator/v1/StatusRequest';
import type { StepReport as _gan_coordinator_v1_StepReport, StepReport__Output as _gan_coordinator_v1_StepReport__Output } from './gan/coordinator/v1/StepReport';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  gan: {
    coordinator: {
      v1: {
        Ack: MessageTypeDefinition<_gan_coordinator_v1_Ack, _gan_coordinator_v1_Ack__Output>
        Coordinator: SubtypeConstructor<typeof grpc.Client, _gan_coordinator_v1_CoordinatorClient> & { service: _gan_coordinator_v1_CoordinatorDefinition }
        DataEndpoint: MessageTypeDefinition<_gan_coordinator_v1_DataEndpoint, _gan_coordinator_v1_DataEndpoint__Output>
        HeartbeatReply: MessageTypeDefinition<_gan_coordinator_v1_HeartbeatReply, _gan_coordinator_v1_HeartbeatReply__Output>
        HeartbeatRequest: MessageTypeDefinition<_gan_coordinator_v1_HeartbeatRequest, _gan_coordinator_v1_HeartbeatRequest__Output>
        JoinReply: MessageTypeDefinition<_gan_coordinator_v1_JoinReply, _gan_coordinator_v1_JoinReply__Output>
        JoinRequest: MessageTypeDefinition<_gan_coordinator_v1_JoinRequest, _gan_coordinator_v1_JoinRequest__Output>
        LeaveRequest: MessageTypeDefinition<_gan_coordinator_v1_LeaveRequest, _gan_coordinator_v1_LeaveRequest__Output>
        RunStatus: MessageTypeDefinition<_gan_coordinator_v1_RunStatus, _gan_coordinator_v1_RunStatus__Output>
        ShutdownRequest: MessageTypeDefinition<_gan_coordinator_v1_ShutdownRequest, _gan_coordinator_v1_ShutdownRequest__Output>
        StatusRequest: MessageTypeDefinition<_gan_coordinator_v1_StatusRequest, _gan_coordinator_v1_StatusRequest__Output>
        StepReport: MessageTypeDefinition<_gan_coordinator_v1_StepReport, _gan_coordinator_v1_StepReport__Output>
      }
    }
  }
}

