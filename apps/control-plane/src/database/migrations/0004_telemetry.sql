CREATE TABLE "telemetry_rollups" (
	"resolution" text NOT NULL,
	"device_id" text NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"samples" integer NOT NULL,
	"fps_mean" double precision NOT NULL,
	"fps_min" double precision NOT NULL,
	"latency_p50_ms" double precision,
	"latency_p95_ms" double precision,
	"latency_p99_ms" double precision,
	"cpu_percent" double precision NOT NULL,
	"max_temperature_c" double precision,
	"accuracy" double precision,
	"model_id" text,
	CONSTRAINT "telemetry_rollups_resolution_device_id_bucket_start_pk" PRIMARY KEY("resolution","device_id","bucket_start")
);
--> statement-breakpoint
CREATE TABLE "telemetry_samples" (
	"device_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_ms" integer NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"frames_processed" bigint NOT NULL,
	"frames_dropped" bigint NOT NULL,
	"fps" double precision NOT NULL,
	"latency_p50_ms" double precision,
	"latency_p95_ms" double precision,
	"latency_p99_ms" double precision,
	"cpu_percent" double precision NOT NULL,
	"rss_bytes" bigint NOT NULL,
	"max_temperature_c" double precision,
	"gpu_load_percent" double precision,
	"model_id" text,
	"accuracy" double precision,
	"spool_depth" bigint NOT NULL,
	CONSTRAINT "telemetry_samples_device_id_window_start_pk" PRIMARY KEY("device_id","window_start")
);
--> statement-breakpoint
CREATE INDEX "telemetry_rollups_bucket_idx" ON "telemetry_rollups" USING btree ("resolution","bucket_start");--> statement-breakpoint
CREATE INDEX "telemetry_samples_window_start_idx" ON "telemetry_samples" USING btree ("window_start");