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
  ) AS "t2"
  WHERE
    "t2"."pid" IN (
      SELECT
        "t4"."pid"
      FROM (
        SELECT
          "t3"."pid",
          COUNT(*) FILTER(WHERE
            (
              "t3"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            )
            AND COALESCE(
              ARRAY_CONTAINS(
                LIST_APPLY(
                  CASE
                    WHEN JSON_TYPE("t3"."properties" -> '$.tags') = 'ARRAY'
                    THEN CAST(CAST("t3"."properties" -> '$.tags' AS JSON) AS JSON[])
                    ELSE NULL
                  END,
                  __ibis_param_item__ -> CASE
                    WHEN JSON_TYPE(__ibis_param_item__) = 'VARCHAR'
                    THEN __ibis_param_item__ ->> '$'
                    ELSE NULL
                  END
                ),
                'gift'
              ),
              FALSE
            )) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            AND COALESCE(
              ARRAY_CONTAINS(
                LIST_APPLY(
                  CASE
                    WHEN JSON_TYPE("t1"."properties" -> '$.tags') = 'ARRAY'
                    THEN CAST(CAST("t1"."properties" -> '$.tags' AS JSON) AS JSON[])
                    ELSE NULL
                  END,
                  __ibis_param_item__ -> CASE
                    WHEN JSON_TYPE(__ibis_param_item__) = 'VARCHAR'
                    THEN __ibis_param_item__ ->> '$'
                    ELSE NULL
                  END
                ),
                'gift'
              ),
              FALSE
            )
        ) AS "t3"
        GROUP BY
          1
      ) AS "t4"
      WHERE
        COALESCE("t4"."m0" >= 1, FALSE)
    )
) AS "t6"
