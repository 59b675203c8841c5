ALTER TABLE "engine_builds" ADD COLUMN "timing" jsonb;--> statement-breakpoint
ALTER TABLE "engine_builds" ADD COLUMN "tensorrt_version" text;--> statement-breakpoint
ALTER TABLE "engine_builds" ADD COLUMN "build_ms" integer;--> statement-breakpoint
ALTER TABLE "engine_builds" ADD COLUMN "build_log" text;--> statement-breakpoint
ALTER TABLE "engine_builds" ADD COLUMN "requested_by" text;--> statement-breakpoint
ALTER TABLE "engine_builds" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "engine_builds_input_idx" ON "engine_builds" USING btree ("input_sha256");