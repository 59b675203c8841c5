CREATE TABLE "rollout_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rollout_id" text NOT NULL,
	"scope" text NOT NULL,
	"phase_index" integer,
	"device_id" text,
	"from_state" text,
	"to_state" text NOT NULL,
	"reason" text,
	"details" jsonb,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollout_phases" (
	"rollout_id" text NOT NULL,
	"index" integer NOT NULL,
	"name" text NOT NULL,
	"count" integer,
	"percent" double precision,
	"success_threshold_percent" double precision NOT NULL,
	"soak_seconds" integer NOT NULL,
	"approval" text NOT NULL,
	"state" text NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"approved_by" text,
	CONSTRAINT "rollout_phases_rollout_id_index_pk" PRIMARY KEY("rollout_id","index")
);
--> statement-breakpoint
CREATE TABLE "rollout_targets" (
	"rollout_id" text NOT NULL,
	"device_id" text NOT NULL,
	"position" integer NOT NULL,
	"state" text NOT NULL,
	"phase_index" integer,
	"model" jsonb NOT NULL,
	"previous" jsonb,
	"gate" jsonb,
	"job_id" text,
	"job_status" text,
	"job_version" integer,
	"job_details" jsonb,
	"job_observed_at" timestamp with time zone,
	"action_claimed_at" timestamp with time zone,
	"action_error" text,
	"install_deadline" timestamp with time zone,
	"measured_fps" double precision,
	"measured_accuracy" double precision,
	"session_seq_at_switch" bigint,
	"switched_at" timestamp with time zone,
	"soak_until" timestamp with time zone,
	"failure_type" text,
	"failure_reason" text,
	"rollback_job_id" text,
	"rollback_job_status" text,
	"rollback_job_version" integer,
	"rollback_job_details" jsonb,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_targets_rollout_id_device_id_pk" PRIMARY KEY("rollout_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"name" text NOT NULL,
	"state" text NOT NULL,
	"state_reason" text,
	"resume_state" text,
	"model" jsonb NOT NULL,
	"model_version_id" text NOT NULL,
	"variants" jsonb NOT NULL,
	"selector" text NOT NULL,
	"gates" jsonb NOT NULL,
	"abort_criteria" jsonb NOT NULL,
	"max_concurrent_installs" integer NOT NULL,
	"install_timeout_seconds" integer NOT NULL,
	"accepts_new_devices" boolean NOT NULL,
	"canary_devices" jsonb NOT NULL,
	"order_seed" text NOT NULL,
	"current_phase" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "webhook_deliveries_webhook_event_idx";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "kind" text DEFAULT 'emotion-event' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "rollout_cursor_event_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_events" ADD CONSTRAINT "rollout_events_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_phases" ADD CONSTRAINT "rollout_phases_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_targets" ADD CONSTRAINT "rollout_targets_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollout_events_rollout_idx" ON "rollout_events" USING btree ("rollout_id","id");--> statement-breakpoint
CREATE INDEX "rollout_events_created_idx" ON "rollout_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "rollout_targets_device_idx" ON "rollout_targets" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "rollout_targets_job_idx" ON "rollout_targets" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "rollout_targets_rollback_job_idx" ON "rollout_targets" USING btree ("rollback_job_id");--> statement-breakpoint
CREATE INDEX "rollout_targets_state_idx" ON "rollout_targets" USING btree ("rollout_id","state");--> statement-breakpoint
CREATE INDEX "rollouts_state_idx" ON "rollouts" USING btree ("state");--> statement-breakpoint
CREATE INDEX "rollouts_seq_idx" ON "rollouts" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_webhook_kind_event_idx" ON "webhook_deliveries" USING btree ("webhook_id","kind","event_id");