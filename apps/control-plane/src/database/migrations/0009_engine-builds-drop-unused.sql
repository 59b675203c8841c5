ALTER TABLE "engine_builds" DROP COLUMN "execution_version";--> statement-breakpoint
ALTER TABLE "engine_builds" DROP COLUMN "build_log_sha256";--> statement-breakpoint
ALTER TABLE "engine_builds" DROP COLUMN "timing";