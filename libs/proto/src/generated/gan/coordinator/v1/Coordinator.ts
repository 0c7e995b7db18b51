// Original file: protos/coordinator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Ack as _gan_coordinator_v1_Ack, Ack__Output as _gan_coordinator_v1_Ack__Output } from '../../../gan/coordinator/v1/Ack';
import type { HeartbeatReply as _gan_coordinator_v1_HeartbeatReply, HeartbeatReply__Output as _gan_coordinator_v1_HeartbeatReply__Output } from '../../../gan/coordinator/v1/HeartbeatReply';
import type { HeartbeatRequest as _gan_coordinator_v1_HeartbeatRequest, HeartbeatRequest__Output as _gan_coordinator_v1_HeartbeatRequest__Output } from '../../../gan/coordinator/v1/HeartbeatRequest';
import type { JoinReply as _gan_coordinator_v1_JoinReply, JoinReply__Output as _gan_coordinator_v1_JoinReply__Output } from '../../../gan/coordinator/v1/JoinReply';
import type { JoinRequest as _gan_coordinator_v1_JoinRequest, JoinRequest__Output as _gan_coordinator_v1_JoinRequest__Output } from '../../../gan/coordinator/v1/JoinRequest';
import type { LeaveRequest as _gan_coordinator_v1_LeaveRequest, LeaveRequest__Output as _gan_coordinator_v1_LeaveRequest__Output } from '../../../gan/coordinator/v1/LeaveRequest';
import type { RunStatus as _gan_coordinator_v1_RunStatus, RunStatus__Output as _gan_coordinator_v1_RunStatus__Output } from '../../../gan/coordinator/v1/RunStatus';
import type { ShutdownRequest as _gan_coordinator_v1_ShutdownRequest, ShutdownRequest__Output as _gan_coordinator_v1_ShutdownRequest__Output } from '../../../gan/coordinator/v1/ShutdownRequest';
import type { StatusRequest as _gan_coordinator_v1_StatusRequest, StatusRequest__Output as _gan_coordinator_v1_StatusRequest__Output } from '../../../gan/coordinator/v1/StatusRequest';
import type { StepReport as _gan_coordinator_v1_StepReport, StepReport__Output as _gan_coordinator_v1_StepReport__Output } from '../../../gan/coordinator/v1/StepReport';

export interface CoordinatorClient extends grpc.Client {
  GetStatus(argument: _gan_coordinator_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _gan_coordinator_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _gan_coordinator_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _gan_coordinator_v1_StatusRequest, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _gan_coordinator_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _gan_coordinator_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _gan_coordinator_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _gan_coordinator_v1_StatusRequest, callback: grpc.requestCallback<_gan_coordinator_v1_RunStatus__Output>): grpc.ClientUnaryCall;
  
  Heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _gan_coordinator_v1_HeartbeatRequest, callback: grpc.requestCallback<_gan_coordinator_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  
  Join(argument: _gan_coordinator_v1_JoinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _gan_coordinator_v1_JoinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _gan_coordinator_v1_JoinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  Join(argument: _gan_coordinator_v1_JoinRequest, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _gan_coordinator_v1_JoinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _gan_coordinator_v1_JoinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _gan_coordinator_v1_JoinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  join(argument: _gan_coordinator_v1_JoinRequest, callback: grpc.requestCallback<_gan_coordinator_v1_JoinReply__Output>): grpc.ClientUnaryCall;
  
  Leave(argument: _gan_coordinator_v1_LeaveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Leave(argument: _gan_coordinator_v1_LeaveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Leave(argument: _gan_coordinator_v1_LeaveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Leave(argument: _gan_coordinator_v1_LeaveRequest, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  leave(argument: _gan_coordinator_v1_LeaveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  leave(argument: _gan_coordinator_v1_LeaveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  leave(argument: _gan_coordinator_v1_LeaveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  leave(argument: _gan_coordinator_v1_LeaveRequest, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  
  ReportStep(argument: _gan_coordinator_v1_StepReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  ReportStep(argument: _gan_coordinator_v1_StepReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  ReportStep(argument: _gan_coordinator_v1_StepReport, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  ReportStep(argument: _gan_coordinator_v1_StepReport, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  reportStep(argument: _gan_coordinator_v1_StepReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  reportStep(argument: _gan_coordinator_v1_StepReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  reportStep(argument: _gan_coordinator_v1_StepReport, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  reportStep(argument: _gan_coordinator_v1_StepReport, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  
  Shutdown(argument: _gan_coordinator_v1_ShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _gan_coordinator_v1_ShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _gan_coordinator_v1_ShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _gan_coordinator_v1_ShutdownRequest, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _gan_coordinator_v1_ShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _gan_coordinator_v1_ShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _gan_coordinator_v1_ShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _gan_coordinator_v1_ShutdownRequest, callback: grpc.requestCallback<_gan_coordinator_v1_Ack__Output>): grpc.ClientUnaryCall;
  
}

export interface CoordinatorHandlers extends grpc.UntypedServiceImplementation {
  GetStatus: grpc.handleUnaryCall<_gan_coordinator_v1_StatusRequest__Output, _gan_coordinator_v1_RunStatus>;
  
  Heartbeat: grpc.handleUnaryCall<_gan_coordinator_v1_HeartbeatRequest__Output, _gan_coordinator_v1_HeartbeatReply>;
  
  Join: grpc.handleUnaryCall<_gan_coordinator_v1_JoinRequest__Output, _gan_coordinator_v1_JoinReply>;
  
  Leave: grpc.handleUnaryCall<_gan_coordinator_v1_LeaveRequest__Output, _gan_coordinator_v1_Ack>;
  
  ReportStep: grpc.handleUnaryCall<_gan_coordinator_v1_StepReport__Output, _gan_coordinator_v1_Ack>;
  
  Shutdown: grpc.handleUnaryCall<_gan_coordinator_v1_ShutdownRequest__Output, _gan_coordinator_v1_Ack>;
  
}

export interface CoordinatorDefinition extends grpc.ServiceDefinition {
  GetStatus: MethodDefinition<_gan_coordinator_v1_StatusRequest, _gan_coordinator_v1_RunStatus, _gan_coordinator_v1_StatusRequest__Output, _gan_coordinator_v1_RunStatus__Output>
  Heartbeat: MethodDefinition<_gan_coordinator_v1_HeartbeatRequest, _gan_coordinator_v1_HeartbeatReply, _gan_coordinator_v1_HeartbeatRequest__Output, _gan_coordinator_v1_HeartbeatReply__Output>
  Join: MethodDefinition<_gan_coordinator_v1_JoinRequest, _gan_coordinator_v1_JoinReply, _gan_coordinator_v1_JoinRequest__Output, _gan_coordinator_v1_JoinReply__Output>
  Leave: MethodDefinition<_gan_coordinator_v1_LeaveRequest, _gan_coordinator_v1_Ack, _gan_coordinator_v1_LeaveRequest__Output, _gan_coordinator_v1_Ack__Output>
  ReportStep: MethodDefinition<_gan_coordinator_v1_StepReport, _gan_coordinator_v1_Ack, _gan_coordinator_v1_StepReport__Output, _gan_coordinator_v1_Ack__Output>
  Shutdown: MethodDefinition<_gan_coordinator_v1_ShutdownRequest, _gan_coordinator_v1_Ack, _gan_coordinator_v1_ShutdownRequest__Output, _gan_coordinator_v1_Ack__Output>
}
