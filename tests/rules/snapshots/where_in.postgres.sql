SELECT
  "t6"."customer_id"
FROM (
  SELECT
    *
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
  WHERE
    "t3"."pid" IN (
      SELECT
        "t4"."pid"
      FROM (
        SELECT
          "t2"."pid",
          COUNT(*) FILTER(WHERE
            (
              "t2"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
            )
            AND (
              "t2"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            )
            AND (
              (
                CASE
                  WHEN JSON_TYPEOF(JSON_EXTRACT_PATH("t2"."properties", 'category')) = 'string'
                  THEN JSON_EXTRACT_PATH_TEXT(JSON_EXTRACT_PATH("t2"."properties", 'category'), VARIADIC ARRAY[]::TEXT[])
                  ELSE NULL
                END IS NOT NULL
              )
              AND CASE
                WHEN JSON_TYPEOF(JSON_EXTRACT_PATH("t2"."properties", 'category')) = 'string'
                THEN JSON_EXTRACT_PATH_TEXT(JSON_EXTRACT_PATH("t2"."properties", 'category'), VARIADIC ARRAY[]::TEXT[])
                ELSE NULL
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
              WHEN JSON_TYPEOF(JSON_EXTRACT_PATH("t1"."properties", 'category')) = 'string'
              THEN JSON_EXTRACT_PATH_TEXT(JSON_EXTRACT_PATH("t1"."properties", 'category'), VARIADIC ARRAY[]::TEXT[])
              ELSE NULL
            END IS NOT NULL
            AND CASE
              WHEN JSON_TYPEOF(JSON_EXTRACT_PATH("t1"."properties", 'category')) = 'string'
              THEN JSON_EXTRACT_PATH_TEXT(JSON_EXTRACT_PATH("t1"."properties", 'category'), VARIADIC ARRAY[]::TEXT[])
              ELSE NULL
            END IN ('shoes', 'hats')
        ) AS "t2"
        GROUP BY
          1
      ) AS "t4"
      WHERE
        COALESCE("t4"."m0" >= 3, FALSE)
    )
) AS "t6"
