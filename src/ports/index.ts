/**
 * The ports: what fronts may ask of the daemon, one small interface per part, each implemented
 * by the part that owns it and handed to a front by the composition root (daemon/daemon.ts). A
 * front imports only these, the protocol types and util: the linter holds it to that.
 */
import type { AppsPort } from './apps.js';
import type { AuthPort } from './auth.js';
import type { CallsPort } from './calls.js';
import type { CataloguePort } from './catalogue.js';
import type { ChatPort } from './chat.js';
import type { ClientsPort } from './clients.js';
import type { ConfigPort } from './config.js';
import type { DaemonPort } from './daemon.js';
import type { EphemeralPort } from './ephemeral.js';
import type { EventsPort } from './events.js';
import type { LogsPort } from './logs.js';
import type { ServersPort } from './servers.js';
import type { UiPort } from './ui.js';

export interface Ports {
  daemon: DaemonPort;
  servers: ServersPort;
  ephemeral: EphemeralPort;
  catalogue: CataloguePort;
  calls: CallsPort;
  chat: ChatPort;
  auth: AuthPort;
  logs: LogsPort;
  clients: ClientsPort;
  config: ConfigPort;
  events: EventsPort;
  ui: UiPort;
  apps: AppsPort;
}

export type {
  AppsPort,
  AuthPort,
  CallsPort,
  CataloguePort,
  ChatPort,
  ClientsPort,
  ConfigPort,
  DaemonPort,
  EphemeralPort,
  EventsPort,
  LogsPort,
  ServersPort,
  UiPort,
};
export type { ChatWatcher, SamplingAsk, SendOptions } from './chat.js';
export type { DaemonEvents } from './events.js';
export type { Front, HttpMount } from './front.js';
export type { Logger } from './logs.js';
export type { ServerAction } from './servers.js';
export type { ProfileConfig } from './daemon.js';
