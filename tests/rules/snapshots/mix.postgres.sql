WITH "t6" AS (
  SELECT
    "t2"."pid",
    COUNT(*) FILTER(WHERE
      (
        "t2"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
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
      AND "t1"."ts" >= CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
      AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      AND "t1"."ts" > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMPTZ)
  ) AS "t2"
  GROUP BY
    1
)
SELECT
  "t17"."customer_id"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t15"."pid",
      "t15"."customer_id",
      "t15"."country",
      "t15"."hits0"
    FROM (
      SELECT
        "t5"."pid",
        "t5"."customer_id",
        "t5"."country",
        "t14"."pid" AS "pid_right",
        "t14"."hits0"
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
      ) AS "t5"
      LEFT OUTER JOIN (
        SELECT
          "t12"."pid",
          BIT_OR("t12"."hits0") AS "hits0"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              "t8"."pid",
              1 AS "hits0"
            FROM "t6" AS "t8"
            WHERE
              COALESCE("t8"."m0" >= 3, FALSE)
          ) AS "t11"
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              "t7"."pid",
              2 AS "hits0"
            FROM (
              SELECT
                "t3"."pid",
                COUNT(*) FILTER(WHERE
                  (
                    "t3"."ts" > CAST('2026-10-02T00:00:00+00:00' AS TIMESTAMPTZ)
                  )
                  AND (
                    "t3"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                  )) AS "m1"
              FROM (
                SELECT
                  *
                FROM "events" AS "t1"
                WHERE
                  "t1"."event" = 'email_opened'
                  AND "t1"."ts" >= CAST('2026-10-02T00:00:00+00:00' AS TIMESTAMPTZ)
                  AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                  AND "t1"."ts" > CAST('2026-10-02T00:00:00+00:00' AS TIMESTAMPTZ)
              ) AS "t3"
              GROUP BY
                1
            ) AS "t7"
            WHERE
              COALESCE("t7"."m1" >= 1, FALSE)
          ) AS "t9"
        ) AS "t12"
        GROUP BY
          1
      ) AS "t14"
        ON "t5"."pid" = "t14"."pid"
    ) AS "t15"
  ) AS "t16"
  WHERE
    "t16"."pid" IN (
      SELECT
        "t8"."pid"
      FROM "t6" AS "t8"
      WHERE
        COALESCE("t8"."m0" >= 3, FALSE)
    )
    AND COALESCE("t16"."country" = 'US', FALSE)
    AND COALESCE((
      "t16"."hits0" & 1
    ) <> 0, FALSE)
    AND NOT (
      COALESCE((
        "t16"."hits0" & 2
      ) <> 0, FALSE)
    )
) AS "t17"
