CREATE TABLE "device_desired_states" (
	"device_id" text PRIMARY KEY NOT NULL,
	"desired_version" integer NOT NULL,
	"model_version_id" text,
	"health_check" jsonb,
	"rollout_id" text,
	"issued_at" timestamp with time zone NOT NULL,
	"issued_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_job_executions" (
	"job_id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"device_id" text NOT NULL,
	"operation" text NOT NULL,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"version_number" integer DEFAULT 1 NOT NULL,
	"status_details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rollout_id" text,
	"model_version_id" text,
	"desired_version" integer,
	"created_by" text NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"timeout_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_job_executions_seq_uq" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "device_job_updates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"status" text NOT NULL,
	"step" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version_number" integer NOT NULL,
	"source" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_desired_states" ADD CONSTRAINT "device_desired_states_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_desired_states" ADD CONSTRAINT "device_desired_states_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_job_executions" ADD CONSTRAINT "device_job_executions_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_job_executions" ADD CONSTRAINT "device_job_executions_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_job_updates" ADD CONSTRAINT "device_job_updates_job_id_device_job_executions_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."device_job_executions"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "device_job_executions_device_seq_idx" ON "device_job_executions" USING btree ("device_id","seq");--> statement-breakpoint
CREATE INDEX "device_job_executions_rollout_idx" ON "device_job_executions" USING btree ("rollout_id");--> statement-breakpoint
CREATE INDEX "device_job_executions_pending_timeout_idx" ON "device_job_executions" USING btree ("timeout_at") WHERE "device_job_executions"."status" in ('QUEUED', 'IN_PROGRESS') and "device_job_executions"."timeout_at" is not null;--> statement-breakpoint
CREATE INDEX "device_job_updates_job_idx" ON "device_job_updates" USING btree ("job_id","id");