SELECT
  "t9"."customer_id"
FROM (
  SELECT
    "t6"."pid",
    "t6"."customer_id",
    "t6"."country",
    "t8"."m0",
    "t8"."m1"
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id",
      "t0"."country"
    FROM "profiles" AS "t0"
    WHERE
      "t0"."customer_id" IS NOT NULL
      AND (
        (
          "t0"."created_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
        )
        OR (
          (
            "t0"."created_at" IS NULL
          )
          AND (
            (
              "t0"."first_event_at" IS NULL
            )
            OR (
              "t0"."first_event_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            )
          )
        )
      )
  ) AS "t6"
  LEFT OUTER JOIN (
    SELECT
      "t4"."pid",
      COUNT(*) FILTER(WHERE
        "t4"."m0_f") AS "m0",
      COUNT(*) FILTER(WHERE
        "t4"."m1_f") AS "m1"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t1"."pid",
          (
            "t1"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
          )
          AND (
            "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
          ) AS "m0_f",
          FALSE AS "m1_f"
        FROM "events" AS "t1"
        WHERE
          "t1"."event" = 'order_completed'
          AND "t1"."ts" >= CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
          AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      ) AS "t2"
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          "t1"."pid",
          FALSE AS "m0_f",
          (
            "t1"."ts" > CAST('2026-10-02T00:00:00+00:00' AS TIMESTAMPTZ)
          )
          AND (
            "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
          ) AS "m1_f"
        FROM "events" AS "t1"
        WHERE
          "t1"."event" = 'email_opened'
          AND "t1"."ts" >= CAST('2026-10-02T00:00:00+00:00' AS TIMESTAMPTZ)
          AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      ) AS "t3"
    ) AS "t4"
    GROUP BY
      1
  ) AS "t8"
    ON "t6"."pid" = "t8"."pid"
) AS "t9"
WHERE
  COALESCE("t9"."country" = 'US', FALSE)
  AND COALESCE(COALESCE("t9"."m0", 0) >= 3, FALSE)
  AND NOT (
    COALESCE(COALESCE("t9"."m1", 0) >= 1, FALSE)
  )
