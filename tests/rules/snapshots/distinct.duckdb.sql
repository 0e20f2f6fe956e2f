SELECT
  "t8"."customer_id"
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
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
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
              "t0"."first_event_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            )
          )
        )
      )
  ) AS "t3"
  WHERE
    "t3"."pid" IN (
      SELECT
        "t6"."pid"
      FROM (
        SELECT
          "t5"."pid",
          COUNT(DISTINCT "t5"."m0_v") AS "m0",
          COUNT(*) FILTER(WHERE
            "t5"."m0_f") AS "m0_n"
        FROM (
          SELECT
            "t4"."pid",
            CASE
              WHEN (
                "t4"."ts" >= MAKE_TIMESTAMPTZ(2026, 1, 1, 0, 0, 0.0, 'UTC')
              )
              AND (
                "t4"."ts" < MAKE_TIMESTAMPTZ(2026, 7, 1, 0, 0, 0.0, 'UTC')
              )
              AND COALESCE(TRY_CAST("t4"."properties" ->> '$.price' AS DOUBLE) >= 10, FALSE)
              THEN "t4"."properties" ->> '$.category'
              ELSE NULL
            END AS "m0_v",
            (
              "t4"."ts" >= MAKE_TIMESTAMPTZ(2026, 1, 1, 0, 0, 0.0, 'UTC')
            )
            AND (
              "t4"."ts" < MAKE_TIMESTAMPTZ(2026, 7, 1, 0, 0, 0.0, 'UTC')
            )
            AND COALESCE(TRY_CAST("t4"."properties" ->> '$.price' AS DOUBLE) >= 10, FALSE) AS "m0_f"
          FROM (
            SELECT
              *
            FROM (
              SELECT
                *
              FROM "events" AS "t1"
              WHERE
                "t1"."event" = 'product_view'
                AND "t1"."ts" >= MAKE_TIMESTAMPTZ(2026, 1, 1, 0, 0, 0.0, 'UTC')
                AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 7, 1, 0, 0, 0.0, 'UTC')
            ) AS "t2"
            WHERE
              (
                (
                  "t2"."ts" >= MAKE_TIMESTAMPTZ(2026, 1, 1, 0, 0, 0.0, 'UTC')
                )
                AND (
                  "t2"."ts" < MAKE_TIMESTAMPTZ(2026, 7, 1, 0, 0, 0.0, 'UTC')
                )
                AND COALESCE(TRY_CAST("t2"."properties" ->> '$.price' AS DOUBLE) >= 10, FALSE)
              )
              OR (
                (
                  "t2"."ts" >= MAKE_TIMESTAMPTZ(2026, 1, 1, 0, 0, 0.0, 'UTC')
                )
                AND (
                  "t2"."ts" < MAKE_TIMESTAMPTZ(2026, 7, 1, 0, 0, 0.0, 'UTC')
                )
                AND COALESCE(TRY_CAST("t2"."properties" ->> '$.price' AS DOUBLE) >= 10, FALSE)
              )
          ) AS "t4"
        ) AS "t5"
        GROUP BY
          1
      ) AS "t6"
      WHERE
        "t6"."m0_n" > 0 AND COALESCE(COALESCE("t6"."m0", 0) BETWEEN 2 AND 5, FALSE)
    )
) AS "t8"
