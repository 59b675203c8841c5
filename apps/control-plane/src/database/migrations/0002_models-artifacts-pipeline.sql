CREATE TABLE "model_manifests" (
	"version_id" text NOT NULL,
	"format" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"signature" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_manifests_version_id_sha256_pk" PRIMARY KEY("version_id","sha256")
);
--> statement-breakpoint
CREATE TABLE "model_version_files" (
	"version_id" text NOT NULL,
	"role" text NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_version_files_version_id_role_pk" PRIMARY KEY("version_id","role")
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"parent_version_id" text,
	"transforms" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"uploaded_by" text NOT NULL,
	"status" text DEFAULT 'uploaded' NOT NULL,
	"status_reason" text,
	"analysis" jsonb NOT NULL,
	"classes" integer NOT NULL,
	"input_shape" jsonb NOT NULL,
	"baseline" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_model_version_uq" UNIQUE("model_name","version")
);
--> statement-breakpoint
CREATE TABLE "models" (
	"name" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_builds" (
	"cache_key" text PRIMARY KEY NOT NULL,
	"version_id" text NOT NULL,
	"target" jsonb NOT NULL,
	"plan" jsonb NOT NULL,
	"input_sha256" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"builder_device_id" text,
	"device_job_id" text,
	"execution_version" integer DEFAULT 0 NOT NULL,
	"engine_sha256" text,
	"engine_size_bytes" bigint,
	"build_log_sha256" text,
	"timing" text,
	"failed_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipeline_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"version_id" text,
	"status" text DEFAULT 'queued' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"logs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"input" jsonb NOT NULL,
	"result" jsonb,
	"failed_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "model_manifests" ADD CONSTRAINT "model_manifests_version_id_model_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."model_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_version_files" ADD CONSTRAINT "model_version_files_version_id_model_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."model_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_name_models_name_fk" FOREIGN KEY ("model_name") REFERENCES "public"."models"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_manifests_sha256_idx" ON "model_manifests" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "model_version_files_sha256_idx" ON "model_version_files" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "pipeline_jobs_version_idx" ON "pipeline_jobs" USING btree ("version_id");