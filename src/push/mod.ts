import { type Config, ConfigError } from "../config.ts";
import type { OutboundClient } from "../net/outbound.ts";
import { ApnsProvider } from "./apns.ts";
import { FcmProvider, type FcmServiceAccount } from "./fcm.ts";
import type { PushKind, PushProvider } from "./provider.ts";
import type { VapidKeys } from "./vapid.ts";
import { WebPushProvider } from "./webpush.ts";

/**
 * The push providers this deployment can use: Web Push always (with the VAPID keys), FCM and APNs
 * when their credentials are configured. All of them send through the guarded outbound client.
 */
export function pushProviders(
  config: Config,
  vapid: VapidKeys,
  outbound: OutboundClient,
): Map<PushKind, PushProvider> {
  const providers = new Map<PushKind, PushProvider>();
  providers.set("webpush", new WebPushProvider({ vapid, outbound }));
  const { fcm, apns } = config.push;
  if (fcm.projectId && fcm.serviceAccount) {
    providers.set(
      "fcm",
      new FcmProvider({
        projectId: fcm.projectId,
        serviceAccount: serviceAccount(fcm.serviceAccount),
        baseUrl: fcm.baseUrl,
        outbound,
      }),
    );
  }
  if (apns.keyId && apns.teamId && apns.privateKey && apns.topic) {
    providers.set(
      "apns",
      new ApnsProvider({
        keyId: apns.keyId,
        teamId: apns.teamId,
        privateKey: apns.privateKey,
        topic: apns.topic,
        baseUrl: apns.baseUrl,
        outbound,
      }),
    );
  }
  return providers;
}

function serviceAccount(raw: string): FcmServiceAccount {
  let parsed: Partial<FcmServiceAccount>;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      "invalid configuration: FCM_SERVICE_ACCOUNT: must be the key file's JSON",
    );
  }
  if (typeof parsed.client_email !== "string" || typeof parsed.private_key !== "string") {
    throw new ConfigError(
      "invalid configuration: FCM_SERVICE_ACCOUNT: needs client_email and private_key",
    );
  }
  return parsed as FcmServiceAccount;
}
