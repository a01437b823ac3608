import { z } from 'zod';
import { DeviceIdSchema } from '../ids.js';
import { NameSchema, TagSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';

// ---------------------------------------------------------------- notification channels

export const CHANNEL_TYPES = ['webhook', 'dingtalk', 'feishu', 'wecom', 'slack', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
/** The channel types sent as an HTTP request to a URL. */
export const HTTP_CHANNEL_TYPES = ['webhook', 'dingtalk', 'feishu', 'wecom', 'slack'] as const;

/** Channel and rule ids are UUIDs the service assigns. */
export const AlertingIdSchema = z.uuid();

const ChannelUrlSchema = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .max(2_000, 'must be at most 2000 characters');

export const ChannelConfigSchema = z.strictObject({
  url: ChannelUrlSchema,
  /** The webhook or robot signing secret; write-only. */
  secret: z.string().min(1).max(500).optional(),
});

const EmailAddressSchema = z.email({ message: 'must be an e-mail address' }).max(254);
const emailFields = {
  /** The SMTP server's host name or IP address. */
  host: z
    .string()
    .min(1, 'must not be empty')
    .max(253)
    .regex(/^[A-Za-z0-9.:_[\]-]+$/, 'must be a host name or IP address'),
  port: z.number().int().min(1).max(65_535, 'must be a port number (1-65535)'),
  /** Implicit TLS from the first byte (usually port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean(),
  username: z.string().min(1).max(200),
  /** The SMTP password; write-only. */
  password: z.string().min(1).max(500),
  from: EmailAddressSchema,
  to: z
    .array(EmailAddressSchema)
    .min(1, 'needs at least one address')
    .max(20, 'must be at most 20 addresses'),
};

/** An e-mail channel: an SMTP server to send through and who gets the alerts. */
export const EmailChannelConfigSchema = z.strictObject({
  host: emailFields.host,
  port: emailFields.port.default(587),
  secure: emailFields.secure.default(false),
  username: emailFields.username.optional(),
  password: emailFields.password.optional(),
  from: emailFields.from,
  to: emailFields.to,
});
export type EmailChannelConfig = z.output<typeof EmailChannelConfigSchema>;

export const ChannelCreateRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ name: NameSchema, type: z.enum(HTTP_CHANNEL_TYPES), config: ChannelConfigSchema }),
  z.strictObject({ name: NameSchema, type: z.literal('email'), config: EmailChannelConfigSchema }),
]);
export type ChannelCreateRequest = z.input<typeof ChannelCreateRequestSchema>;

/** URL and secret fit the HTTP channel types, the other fields e-mail channels (checked by the service). */
export const ChannelUpdateRequestSchema = z.strictObject({
  name: NameSchema.optional(),
  config: z
    .strictObject({
      url: ChannelUrlSchema.optional(),
      /** A new secret replaces the stored one; `null` removes it; absent keeps it. */
      secret: z.string().min(1).max(500).nullable().optional(),
      host: emailFields.host.optional(),
      port: emailFields.port.optional(),
      secure: emailFields.secure.optional(),
      /** `null` removes the user name: the channel then sends without logging in. */
      username: emailFields.username.nullable().optional(),
      /** A new password replaces the stored one; `null` removes it; absent keeps it. */
      password: emailFields.password.nullable().optional(),
      from: emailFields.from.optional(),
      to: emailFields.to.optional(),
    })
    .optional(),
});
export type ChannelUpdateRequest = z.input<typeof ChannelUpdateRequestSchema>;

/** A channel as the API returns it: a redacted URL and whether it has a secret, never the secret. */
export const ChannelDtoSchema = z.object({
  id: AlertingIdSchema,
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  /** Scheme, host and path only; for WeCom and Slack the key-bearing part is masked; `smtp://host:port` for e-mail. */
  url: z.string(),
  /** Whether a signing secret (e-mail: an SMTP password) is stored. */
  hasSecret: z.boolean(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
});
export type ChannelDto = z.infer<typeof ChannelDtoSchema>;

export const DeliveryOutcomeSchema = z.object({
  ok: z.boolean(),
  /** The receiver's HTTP status, when it answered. */
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
  attempts: z.number().int().positive(),
});
export type DeliveryOutcome = z.infer<typeof DeliveryOutcomeSchema>;

export const DeliveryDtoSchema = z.object({
  id: z.string(),
  channelId: z.string(),
  alertId: z.string().nullable(),
  kind: z.enum(['firing', 'resolved', 'test']),
  ok: z.boolean(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  sentAt: IsoTimestampSchema,
});
export type DeliveryDto = z.infer<typeof DeliveryDtoSchema>;
export const DeliveryListSchema = z.object({ items: z.array(DeliveryDtoSchema) });

// ---------------------------------------------------------------- alert rules

export const ALERT_KINDS = [
  'device-offline',
  'metric-threshold',
  'agent-crash-looping',
  'budget-exhausted',
  'update-failed',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const AlertRuleParamsSchema = z.strictObject({
  /** How long the condition must hold before the alert fires. */
  forSec: z.number().int().min(0).max(86_400).optional(),
  /** How long the condition must stay clear before a firing alert resolves (hysteresis); default 60. */
  clearSec: z.number().int().min(0).max(86_400).optional(),
  metric: z
    .string()
    .regex(/^[a-z0-9_.-]{1,64}$/, 'metric must be 1-64 characters of a-z, 0-9, ".", "_" or "-"')
    .optional(),
  op: z.enum(['>', '<']).optional(),
  threshold: z.number().finite().optional(),
});

export const AlertTargetSchema = z.strictObject({
  all: z.literal(true).optional(),
  tags: z.array(TagSchema).max(50).optional(),
  deviceIds: z.array(DeviceIdSchema).max(1_000).optional(),
});
export type AlertTarget = z.infer<typeof AlertTargetSchema>;

const ruleFields = {
  name: NameSchema,
  kind: z.enum(ALERT_KINDS),
  params: AlertRuleParamsSchema.default({}),
  target: AlertTargetSchema,
  severity: z.enum(ALERT_SEVERITIES),
  channelIds: z.array(AlertingIdSchema).max(20),
  enabled: z.boolean().default(true),
};

function checkRule(
  rule: { kind?: AlertKind; params?: z.infer<typeof AlertRuleParamsSchema>; target?: AlertTarget },
  ctx: z.RefinementCtx,
): void {
  if (rule.kind === 'metric-threshold') {
    const p = rule.params ?? {};
    if (p.metric === undefined || p.op === undefined || p.threshold === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['params'],
        message: 'a metric-threshold rule needs params.metric, params.op and params.threshold',
      });
    }
  }
  const t = rule.target;
  if (t && !t.all && !(t.tags?.length ?? 0) && !(t.deviceIds?.length ?? 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message: 'target must be {all: true} or name tags or deviceIds',
    });
  }
}

export const AlertRuleCreateRequestSchema = z.strictObject(ruleFields).superRefine(checkRule);
export type AlertRuleCreateRequest = z.input<typeof AlertRuleCreateRequestSchema>;

export const AlertRuleUpdateRequestSchema = z
  .strictObject({
    name: NameSchema.optional(),
    kind: ruleFields.kind.optional(),
    params: AlertRuleParamsSchema.optional(),
    target: AlertTargetSchema.optional(),
    severity: ruleFields.severity.optional(),
    channelIds: ruleFields.channelIds.optional(),
    enabled: z.boolean().optional(),
  })
  // The service checks a metric rule's params against the stored rule: a patch may change one of them.
  .superRefine((patch, ctx) => checkRule({ ...(patch.target ? { target: patch.target } : {}) }, ctx));
export type AlertRuleUpdateRequest = z.input<typeof AlertRuleUpdateRequestSchema>;

export const AlertRuleDtoSchema = z.object({
  id: AlertingIdSchema,
  name: z.string(),
  kind: z.enum(ALERT_KINDS),
  params: AlertRuleParamsSchema,
  target: AlertTargetSchema,
  severity: z.enum(ALERT_SEVERITIES),
  channelIds: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
});
export type AlertRuleDto = z.infer<typeof AlertRuleDtoSchema>;

export const CreatedIdSchema = z.object({ id: z.string() });

// ---------------------------------------------------------------- alerts and silences

export const ALERT_STATES = ['firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const AlertListQuerySchema = z.object({ state: z.enum(ALERT_STATES).optional() });

export const AlertDtoSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  kind: z.enum(ALERT_KINDS),
  severity: z.enum(ALERT_SEVERITIES),
  deviceId: z.string().optional(),
  deviceName: z.string().optional(),
  state: z.enum(ALERT_STATES),
  /** True while a silence matches it: listed, but nobody is notified. */
  silenced: z.boolean(),
  startsAt: IsoTimestampSchema,
  endsAt: IsoTimestampSchema.optional(),
  summary: z.string(),
});
export type AlertDto = z.infer<typeof AlertDtoSchema>;
export const AlertListSchema = z.object({ items: z.array(AlertDtoSchema) });

export const SilenceCreateRequestSchema = z
  .strictObject({
    ruleId: AlertingIdSchema.optional(),
    deviceId: DeviceIdSchema.optional(),
    endsAt: IsoTimestampSchema,
    comment: z.string().max(500).optional(),
  })
  .refine((s) => s.ruleId !== undefined || s.deviceId !== undefined, {
    message: 'a silence names a ruleId, a deviceId or both',
    path: ['ruleId'],
  })
  .refine((s) => Date.parse(s.endsAt) > Date.now(), {
    message: 'endsAt must be in the future',
    path: ['endsAt'],
  });
export type SilenceCreateRequest = z.input<typeof SilenceCreateRequestSchema>;

export const SilenceDtoSchema = z.object({
  id: z.string(),
  ruleId: z.string().optional(),
  deviceId: z.string().optional(),
  endsAt: IsoTimestampSchema,
  comment: z.string().optional(),
  createdBy: z.string(),
  createdAt: IsoTimestampSchema,
});
export type SilenceDto = z.infer<typeof SilenceDtoSchema>;
export const SilenceListSchema = z.object({ items: z.array(SilenceDtoSchema) });

/** What a generic webhook channel receives (docs/operations.md, "Alert notifications"). */
export const AlertWebhookPayloadSchema = z.object({
  status: z.enum(ALERT_STATES),
  alert: z.object({
    id: z.string(),
    rule: z.object({
      id: z.string(),
      name: z.string(),
      kind: z.enum(ALERT_KINDS),
      severity: z.enum(ALERT_SEVERITIES),
    }),
    deviceId: z.string().optional(),
    deviceName: z.string().optional(),
    startsAt: IsoTimestampSchema,
    endsAt: IsoTimestampSchema.optional(),
    summary: z.string(),
  }),
});
export type AlertWebhookPayload = z.infer<typeof AlertWebhookPayloadSchema>;
