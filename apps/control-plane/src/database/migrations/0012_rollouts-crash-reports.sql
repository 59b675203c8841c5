ALTER TABLE "rollout_targets" ADD COLUMN "job_desired_version" integer;--> statement-breakpoint
ALTER TABLE "rollout_targets" ADD COLUMN "crash_report" jsonb;