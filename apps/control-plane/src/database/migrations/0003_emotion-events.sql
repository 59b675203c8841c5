CREATE TABLE "emotion_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"label" text NOT NULL,
	"score" double precision NOT NULL,
	"box" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" bigint NOT NULL,
	"frame_index" bigint NOT NULL,
	"model_id" text NOT NULL,
	"track_id" bigint,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_acks" (
	"device_id" text PRIMARY KEY NOT NULL,
	"highest_contiguous_seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_sequence_losses" (
	"device_id" text NOT NULL,
	"from_seq" bigint NOT NULL,
	"to_seq" bigint NOT NULL,
	"declared_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_sequence_losses_device_id_from_seq_to_seq_pk" PRIMARY KEY("device_id","from_seq","to_seq")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "emotion_events_device_seq_idx" ON "emotion_events" USING btree ("device_id","seq");--> statement-breakpoint
CREATE INDEX "emotion_events_started_at_idx" ON "emotion_events" USING btree ("started_at");