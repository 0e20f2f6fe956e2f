WITH "t5" AS (
  SELECT
    "t2"."pid",
    SUM("t2"."revenue") FILTER(WHERE
      (
        "t2"."ts" > CAST('2025-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      )
      AND (
        "t2"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      )) AS "m0"
  FROM (
    SELECT
      *
    FROM "events" AS "t1"
    WHERE
      "t1"."event" = 'order_completed'
      AND "t1"."ts" >= CAST('2025-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      AND "t1"."ts" > CAST('2025-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
  ) AS "t2"
  GROUP BY
    1
)
SELECT
  "t13"."customer_id"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t11"."pid",
      "t11"."customer_id",
      "t11"."hits0"
    FROM (
      SELECT
        "t4"."pid",
        "t4"."customer_id",
        "t10"."pid" AS "pid_right",
        "t10"."hits0"
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
      ) AS "t4"
      LEFT OUTER JOIN (
        SELECT
          "t8"."pid",
          BIT_OR("t8"."hits0") AS "hits0"
        FROM (
          SELECT
            "t6"."pid",
            1 AS "hits0"
          FROM "t5" AS "t6"
          WHERE
            COALESCE("t6"."m0" > 500, FALSE)
        ) AS "t8"
        GROUP BY
          1
      ) AS "t10"
        ON "t4"."pid" = "t10"."pid"
    ) AS "t11"
  ) AS "t12"
  WHERE
    "t12"."pid" IN (
      SELECT
        "t6"."pid"
      FROM "t5" AS "t6"
      WHERE
        COALESCE("t6"."m0" > 500, FALSE)
    )
    AND COALESCE((
      "t12"."hits0" & 1
    ) <> 0, FALSE)
) AS "t13"
