SELECT
  "t9"."customer_id"
FROM (
  SELECT
    "t3"."pid",
    "t3"."customer_id",
    "t8"."pid" AS "pid_right",
    "t8"."hits0"
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id"
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
  ) AS "t3"
  LEFT OUTER JOIN (
    SELECT
      "t6"."pid",
      BIT_OR("t6"."hits0") AS "hits0"
    FROM (
      SELECT
        "t5"."pid",
        1 AS "hits0"
      FROM (
        SELECT
          "t4"."pid",
          COUNT(*) FILTER(WHERE
            (
              "t4"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
            )
            AND (
              "t4"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            )
            AND (
              (
                CASE
                  WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t4"."properties" AS JSONB), 'category')) = 'string'
                  THEN JSONB_EXTRACT_PATH_TEXT(CAST("t4"."properties" AS JSONB), 'category')
                  ELSE CAST(NULL AS VARCHAR)
                END IS NOT NULL
              )
              AND CASE
                WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t4"."properties" AS JSONB), 'category')) = 'string'
                THEN JSONB_EXTRACT_PATH_TEXT(CAST("t4"."properties" AS JSONB), 'category')
                ELSE CAST(NULL AS VARCHAR)
              END IN ('shoes', 'hats')
            )) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" >= CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
            AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            AND "t1"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
            AND CASE
              WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t1"."properties" AS JSONB), 'category')) = 'string'
              THEN JSONB_EXTRACT_PATH_TEXT(CAST("t1"."properties" AS JSONB), 'category')
              ELSE CAST(NULL AS VARCHAR)
            END IS NOT NULL
            AND CASE
              WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t1"."properties" AS JSONB), 'category')) = 'string'
              THEN JSONB_EXTRACT_PATH_TEXT(CAST("t1"."properties" AS JSONB), 'category')
              ELSE CAST(NULL AS VARCHAR)
            END IN ('shoes', 'hats')
        ) AS "t4"
        GROUP BY
          1
      ) AS "t5"
      WHERE
        COALESCE("t5"."m0" >= 3, FALSE)
    ) AS "t6"
    GROUP BY
      1
  ) AS "t8"
    ON "t3"."pid" = "t8"."pid"
) AS "t9"
WHERE
  COALESCE((
    "t9"."hits0" & 1
  ) <> 0, FALSE)
