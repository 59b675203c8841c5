ALTER TABLE "rollout_targets" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "install_retries" integer DEFAULT 0 NOT NULL;