WITH "t4" AS (
  SELECT
    *
  FROM "events" AS "t1"
  WHERE
    "t1"."event" IN ('order_completed')
    AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
), "t12" AS (
  SELECT
    *
  FROM "profiles" AS "t2"
  WHERE
    "t2"."customer_id" IS NOT NULL
    AND (
      (
        "t2"."created_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
      )
      OR (
        (
          "t2"."created_at" IS NULL
        )
        AND (
          (
            "t2"."first_event_at" IS NULL
          )
          OR (
            "t2"."first_event_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
          )
        )
      )
    )
), "t24" AS (
  SELECT
    *
  FROM (
    SELECT
      "t10"."day" - LAG("t10"."day") OVER (
        PARTITION BY "t10"."pid"
        ORDER BY "t10"."day" ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS "gap"
    FROM (
      SELECT DISTINCT
        "t1"."pid",
        CAST(FLOOR(
          CAST((
            EXTRACT('epoch' FROM "t1"."ts") * 1000000
          ) AS DOUBLE PRECISION) / (
            86400000000
          )
        ) AS BIGINT) AS "day"
      FROM "events" AS "t1"
      WHERE
        "t1"."event" IN ('order_completed')
        AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
    ) AS "t10"
  ) AS "t20"
  WHERE
    "t20"."gap" IS NOT NULL
)
SELECT
  "t54"."customer_id"
FROM (
  SELECT
    "t53"."pid",
    "t53"."customer_id",
    CAST(FLOOR(
      CAST((
        (
          EXTRACT('epoch' FROM CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)) * 1000000
        ) - (
          EXTRACT('epoch' FROM "t53"."last_seen") * 1000000
        )
      ) AS DOUBLE PRECISION) / (
        86400000000
      )
    ) AS BIGINT) AS "days_since_last_seen",
    CASE
      WHEN "t53"."orders_count" IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        CAST((
          (
            EXTRACT('epoch' FROM CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)) * 1000000
          ) - (
            EXTRACT('epoch' FROM "t53"."last_order_at") * 1000000
          )
        ) AS DOUBLE PRECISION) / (
          86400000000
        )
      ) AS BIGINT) > "t53"."churned_days"
      THEN 'churned'
      WHEN CAST(FLOOR(
        CAST((
          (
            EXTRACT('epoch' FROM CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)) * 1000000
          ) - (
            EXTRACT('epoch' FROM "t53"."last_order_at") * 1000000
          )
        ) AS DOUBLE PRECISION) / (
          86400000000
        )
      ) AS BIGINT) > "t53"."lapsed_days"
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        CAST((
          (
            EXTRACT('epoch' FROM CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)) * 1000000
          ) - (
            EXTRACT('epoch' FROM "t53"."last_order_at") * 1000000
          )
        ) AS DOUBLE PRECISION) / (
          86400000000
        )
      ) AS BIGINT) > "t53"."at_risk_days"
      THEN 'at_risk'
      WHEN "t53"."orders_count" >= "t53"."loyal_orders"
      THEN 'loyal'
      WHEN "t53"."orders_count" >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS "lifecycle_stage",
    "t53"."p_alive",
    "t53"."rfm_segment"
  FROM (
    SELECT
      "t52"."pid",
      "t52"."customer_id",
      "t52"."created_at",
      "t52"."first_event_at",
      "t52"."last_event_at",
      "t52"."email",
      "t52"."phone",
      "t52"."first_name",
      "t52"."last_name",
      "t52"."country",
      "t52"."region",
      "t52"."city",
      "t52"."postal_code",
      "t52"."gender",
      "t52"."birth_date",
      "t52"."email_consent",
      "t52"."sms_consent",
      "t52"."x_attr_0",
      "t52"."x_attr_1",
      "t52"."x_attr_2",
      "t52"."x_attr_3",
      "t52"."x_attr_4",
      "t52"."x_attr_5",
      "t52"."x_attr_6",
      "t52"."orders_count",
      "t52"."revenue_total",
      "t52"."first_order_at",
      "t52"."last_order_at",
      "t52"."orders_60d",
      "t52"."orders_prior_60d",
      "t52"."scanned_last",
      "t52"."last_seen",
      "t52"."p_alive",
      "t52"."predicted_orders_365d",
      "t52"."predicted_clv_365d",
      "t52"."at_risk_days",
      "t52"."lapsed_days",
      "t52"."churned_days",
      "t52"."loyal_orders",
      "t52"."r_score",
      "t52"."f_score",
      "t52"."m_score",
      "t52"."rfm_segment"
    FROM (
      SELECT
        "t49"."pid",
        "t49"."customer_id",
        "t49"."created_at",
        "t49"."first_event_at",
        "t49"."last_event_at",
        "t49"."email",
        "t49"."phone",
        "t49"."first_name",
        "t49"."last_name",
        "t49"."country",
        "t49"."region",
        "t49"."city",
        "t49"."postal_code",
        "t49"."gender",
        "t49"."birth_date",
        "t49"."email_consent",
        "t49"."sms_consent",
        "t49"."x_attr_0",
        "t49"."x_attr_1",
        "t49"."x_attr_2",
        "t49"."x_attr_3",
        "t49"."x_attr_4",
        "t49"."x_attr_5",
        "t49"."x_attr_6",
        "t49"."orders_count",
        "t49"."revenue_total",
        "t49"."first_order_at",
        "t49"."last_order_at",
        "t49"."orders_60d",
        "t49"."orders_prior_60d",
        "t49"."scanned_last",
        "t49"."last_seen",
        "t49"."p_alive",
        "t49"."predicted_orders_365d",
        "t49"."predicted_clv_365d",
        "t43"."at_risk_days",
        "t43"."lapsed_days",
        "t43"."churned_days",
        "t43"."loyal_orders",
        "t51"."pid" AS "pid_right",
        "t51"."r_score",
        "t51"."f_score",
        "t51"."m_score",
        "t51"."rfm_segment"
      FROM (
        SELECT
          "t46"."pid",
          "t46"."customer_id",
          "t46"."created_at",
          "t46"."first_event_at",
          "t46"."last_event_at",
          "t46"."email",
          "t46"."phone",
          "t46"."first_name",
          "t46"."last_name",
          "t46"."country",
          "t46"."region",
          "t46"."city",
          "t46"."postal_code",
          "t46"."gender",
          "t46"."birth_date",
          "t46"."email_consent",
          "t46"."sms_consent",
          "t46"."x_attr_0",
          "t46"."x_attr_1",
          "t46"."x_attr_2",
          "t46"."x_attr_3",
          "t46"."x_attr_4",
          "t46"."x_attr_5",
          "t46"."x_attr_6",
          "t46"."orders_count",
          "t46"."revenue_total",
          "t46"."first_order_at",
          "t46"."last_order_at",
          "t46"."orders_60d",
          "t46"."orders_prior_60d",
          "t46"."scanned_last",
          "t46"."last_seen",
          "t46"."p_alive",
          "t46"."predicted_orders_365d",
          "t46"."predicted_clv_365d"
        FROM (
          SELECT
            "t45"."pid",
            "t45"."customer_id",
            "t45"."created_at",
            "t45"."first_event_at",
            "t45"."last_event_at",
            "t45"."email",
            "t45"."phone",
            "t45"."first_name",
            "t45"."last_name",
            "t45"."country",
            "t45"."region",
            "t45"."city",
            "t45"."postal_code",
            "t45"."gender",
            "t45"."birth_date",
            "t45"."email_consent",
            "t45"."sms_consent",
            "t45"."x_attr_0",
            "t45"."x_attr_1",
            "t45"."x_attr_2",
            "t45"."x_attr_3",
            "t45"."x_attr_4",
            "t45"."x_attr_5",
            "t45"."x_attr_6",
            "t45"."orders_count",
            "t45"."revenue_total",
            "t45"."first_order_at",
            "t45"."last_order_at",
            "t45"."orders_60d",
            "t45"."orders_prior_60d",
            "t45"."scanned_last",
            "t45"."last_seen",
            "t9"."pid" AS "pid_right",
            "t9"."p_alive",
            "t9"."predicted_orders_365d",
            "t9"."predicted_clv_365d"
          FROM (
            SELECT
              "t36"."pid",
              "t36"."customer_id",
              "t36"."created_at",
              "t36"."first_event_at",
              "t36"."last_event_at",
              "t36"."email",
              "t36"."phone",
              "t36"."first_name",
              "t36"."last_name",
              "t36"."country",
              "t36"."region",
              "t36"."city",
              "t36"."postal_code",
              "t36"."gender",
              "t36"."birth_date",
              "t36"."email_consent",
              "t36"."sms_consent",
              "t36"."x_attr_0",
              "t36"."x_attr_1",
              "t36"."x_attr_2",
              "t36"."x_attr_3",
              "t36"."x_attr_4",
              "t36"."x_attr_5",
              "t36"."x_attr_6",
              "t36"."orders_count",
              "t36"."revenue_total",
              "t36"."first_order_at",
              "t36"."last_order_at",
              "t36"."orders_60d",
              "t36"."orders_prior_60d",
              "t36"."scanned_last",
              CASE
                WHEN COALESCE("t36"."last_event_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ), FALSE)
                THEN "t36"."last_event_at"
                ELSE "t36"."scanned_last"
              END AS "last_seen"
            FROM (
              SELECT
                "t35"."pid",
                "t35"."customer_id",
                "t35"."created_at",
                "t35"."first_event_at",
                "t35"."last_event_at",
                "t35"."email",
                "t35"."phone",
                "t35"."first_name",
                "t35"."last_name",
                "t35"."country",
                "t35"."region",
                "t35"."city",
                "t35"."postal_code",
                "t35"."gender",
                "t35"."birth_date",
                "t35"."email_consent",
                "t35"."sms_consent",
                "t35"."x_attr_0",
                "t35"."x_attr_1",
                "t35"."x_attr_2",
                "t35"."x_attr_3",
                "t35"."x_attr_4",
                "t35"."x_attr_5",
                "t35"."x_attr_6",
                "t35"."orders_count",
                "t35"."revenue_total",
                "t35"."first_order_at",
                "t35"."last_order_at",
                "t35"."orders_60d",
                "t35"."orders_prior_60d",
                "t35"."scanned_last"
              FROM (
                SELECT
                  "t34"."pid",
                  "t34"."customer_id",
                  "t34"."created_at",
                  "t34"."first_event_at",
                  "t34"."last_event_at",
                  "t34"."email",
                  "t34"."phone",
                  "t34"."first_name",
                  "t34"."last_name",
                  "t34"."country",
                  "t34"."region",
                  "t34"."city",
                  "t34"."postal_code",
                  "t34"."gender",
                  "t34"."birth_date",
                  "t34"."email_consent",
                  "t34"."sms_consent",
                  "t34"."x_attr_0",
                  "t34"."x_attr_1",
                  "t34"."x_attr_2",
                  "t34"."x_attr_3",
                  "t34"."x_attr_4",
                  "t34"."x_attr_5",
                  "t34"."x_attr_6",
                  "t34"."orders_count",
                  "t34"."revenue_total",
                  "t34"."first_order_at",
                  "t34"."last_order_at",
                  "t34"."orders_60d",
                  "t34"."orders_prior_60d",
                  "t29"."pid" AS "pid_right",
                  "t29"."scanned_last"
                FROM (
                  SELECT
                    "t32"."pid",
                    "t32"."customer_id",
                    "t32"."created_at",
                    "t32"."first_event_at",
                    "t32"."last_event_at",
                    "t32"."email",
                    "t32"."phone",
                    "t32"."first_name",
                    "t32"."last_name",
                    "t32"."country",
                    "t32"."region",
                    "t32"."city",
                    "t32"."postal_code",
                    "t32"."gender",
                    "t32"."birth_date",
                    "t32"."email_consent",
                    "t32"."sms_consent",
                    "t32"."x_attr_0",
                    "t32"."x_attr_1",
                    "t32"."x_attr_2",
                    "t32"."x_attr_3",
                    "t32"."x_attr_4",
                    "t32"."x_attr_5",
                    "t32"."x_attr_6",
                    "t32"."orders_count",
                    "t32"."revenue_total",
                    "t32"."first_order_at",
                    "t32"."last_order_at",
                    "t32"."orders_60d",
                    "t32"."orders_prior_60d"
                  FROM (
                    SELECT
                      "t17"."pid",
                      "t17"."customer_id",
                      "t17"."created_at",
                      "t17"."first_event_at",
                      "t17"."last_event_at",
                      "t17"."email",
                      "t17"."phone",
                      "t17"."first_name",
                      "t17"."last_name",
                      "t17"."country",
                      "t17"."region",
                      "t17"."city",
                      "t17"."postal_code",
                      "t17"."gender",
                      "t17"."birth_date",
                      "t17"."email_consent",
                      "t17"."sms_consent",
                      "t17"."x_attr_0",
                      "t17"."x_attr_1",
                      "t17"."x_attr_2",
                      "t17"."x_attr_3",
                      "t17"."x_attr_4",
                      "t17"."x_attr_5",
                      "t17"."x_attr_6",
                      "t28"."pid" AS "pid_right",
                      "t28"."orders_count",
                      "t28"."revenue_total",
                      "t28"."first_order_at",
                      "t28"."last_order_at",
                      "t28"."orders_60d",
                      "t28"."orders_prior_60d"
                    FROM "t12" AS "t17"
                    LEFT OUTER JOIN (
                      SELECT
                        "t19"."pid",
                        "t19"."orders_count",
                        "t19"."revenue_total",
                        "t19"."first_order_at",
                        "t19"."last_order_at",
                        "t19"."orders_60d",
                        "t19"."orders_prior_60d"
                      FROM (
                        SELECT
                          "t7"."pid",
                          COUNT(*) AS "orders_count",
                          COALESCE(SUM("t7"."revenue"), 0) AS "revenue_total",
                          MIN("t7"."ts") AS "first_order_at",
                          MAX("t7"."ts") AS "last_order_at",
                          COUNT(*) FILTER(WHERE
                            "t7"."ts" > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMPTZ)) AS "orders_60d",
                          COUNT(*) FILTER(WHERE
                            (
                              "t7"."ts" > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMPTZ)
                            )
                            AND (
                              "t7"."ts" <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMPTZ)
                            )) AS "orders_prior_60d"
                        FROM "t4" AS "t7"
                        GROUP BY
                          1
                      ) AS "t19"
                      WHERE
                        EXISTS(
                          SELECT
                            1
                          FROM "t12" AS "t16"
                          WHERE
                            "t19"."pid" = "t16"."pid"
                        )
                    ) AS "t28"
                      ON "t17"."pid" = "t28"."pid"
                  ) AS "t32"
                ) AS "t34"
                LEFT OUTER JOIN (
                  SELECT
                    "t21"."pid",
                    MAX("t21"."ts") AS "scanned_last"
                  FROM (
                    SELECT
                      "t8"."pid",
                      "t8"."event",
                      "t8"."ts",
                      "t8"."revenue",
                      "t8"."properties"
                    FROM (
                      SELECT
                        *
                      FROM "events" AS "t1"
                      WHERE
                        "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                    ) AS "t8"
                    WHERE
                      EXISTS(
                        SELECT
                          1
                        FROM (
                          SELECT
                            "t2"."pid"
                          FROM "profiles" AS "t2"
                          WHERE
                            "t2"."customer_id" IS NOT NULL
                            AND (
                              (
                                "t2"."created_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                              )
                              OR (
                                (
                                  "t2"."created_at" IS NULL
                                )
                                AND (
                                  (
                                    "t2"."first_event_at" IS NULL
                                  )
                                  OR (
                                    "t2"."first_event_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                                  )
                                )
                              )
                            )
                            AND "t2"."last_event_at" > CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
                        ) AS "t15"
                        WHERE
                          "t8"."pid" = "t15"."pid"
                      )
                  ) AS "t21"
                  GROUP BY
                    1
                ) AS "t29"
                  ON "t34"."pid" = "t29"."pid"
              ) AS "t35"
            ) AS "t36"
          ) AS "t45"
          LEFT OUTER JOIN (
            SELECT
              "t3"."pid",
              "t3"."p_alive",
              "t3"."predicted_orders_365d",
              "t3"."predicted_clv_365d"
            FROM (
              SELECT
                *
              FROM "clv_predictions" AS "t0"
              WHERE
                "t0"."fit_id" = 1
            ) AS "t3"
          ) AS "t9"
            ON "t45"."pid" = "t9"."pid"
        ) AS "t46"
      ) AS "t49"
      CROSS JOIN (
        SELECT
          "t39"."at_risk_days",
          "t39"."lapsed_days",
          "t39"."churned_days",
          "t23"."loyal_orders"
        FROM (
          SELECT
            CASE
              WHEN "t30"."n_gaps" >= 30
              THEN GREATEST(CAST(CEIL("t30"."q_at_risk") AS BIGINT), 1)
              ELSE 90
            END AS "at_risk_days",
            GREATEST(
              CASE
                WHEN "t30"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t30"."q_lapsed") AS BIGINT), 1)
                ELSE 180
              END,
              CASE
                WHEN "t30"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t30"."q_at_risk") AS BIGINT), 1)
                ELSE 90
              END + 1
            ) AS "lapsed_days",
            GREATEST(
              CASE
                WHEN "t30"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t30"."q_churned") AS BIGINT), 1)
                ELSE 365
              END,
              GREATEST(
                CASE
                  WHEN "t30"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t30"."q_lapsed") AS BIGINT), 1)
                  ELSE 180
                END,
                CASE
                  WHEN "t30"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t30"."q_at_risk") AS BIGINT), 1)
                  ELSE 90
                END + 1
              ) + 1
            ) AS "churned_days"
          FROM (
            SELECT
              COUNT(*) AS "n_gaps",
              PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY
                "t26"."gap") AS "q_at_risk",
              PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
                "t26"."gap") AS "q_lapsed",
              PERCENTILE_CONT(0.97) WITHIN GROUP (ORDER BY
                "t26"."gap") AS "q_churned"
            FROM "t24" AS "t26"
          ) AS "t30"
        ) AS "t39"
        CROSS JOIN (
          SELECT
            GREATEST(
              COALESCE(CAST(CEIL(PERCENTILE_CONT(0.8) WITHIN GROUP (ORDER BY
                "t11"."n")) AS BIGINT), 3),
              3
            ) AS "loyal_orders"
          FROM (
            SELECT
              "t7"."pid",
              COUNT(*) AS "n"
            FROM "t4" AS "t7"
            GROUP BY
              1
          ) AS "t11"
        ) AS "t23"
      ) AS "t43"
      LEFT OUTER JOIN (
        SELECT
          "t48"."pid",
          "t48"."r_score",
          "t48"."f_score",
          "t48"."m_score",
          CASE (
              "t48"."r_score" * 10
            ) + CAST(FLOOR(CAST((
              "t48"."f_score" + "t48"."m_score" + 1
            ) AS DOUBLE PRECISION) / (
              2
            )) AS BIGINT)
            WHEN 51
            THEN 'New'
            WHEN 52
            THEN 'Potential Loyalist'
            WHEN 53
            THEN 'Potential Loyalist'
            WHEN 54
            THEN 'Champions'
            WHEN 55
            THEN 'Champions'
            WHEN 41
            THEN 'Promising'
            WHEN 42
            THEN 'Potential Loyalist'
            WHEN 43
            THEN 'Loyal'
            WHEN 44
            THEN 'Loyal'
            WHEN 45
            THEN 'Champions'
            WHEN 31
            THEN 'About to Sleep'
            WHEN 32
            THEN 'Need Attention'
            WHEN 33
            THEN 'Need Attention'
            WHEN 34
            THEN 'Loyal'
            WHEN 35
            THEN 'Loyal'
            WHEN 21
            THEN 'Hibernating'
            WHEN 22
            THEN 'About to Sleep'
            WHEN 23
            THEN 'At Risk'
            WHEN 24
            THEN 'At Risk'
            WHEN 25
            THEN 'Can''t Lose'
            WHEN 11
            THEN 'Lost'
            WHEN 12
            THEN 'Hibernating'
            WHEN 13
            THEN 'Hibernating'
            WHEN 14
            THEN 'Hibernating'
            WHEN 15
            THEN 'Hibernating'
            ELSE NULL
          END AS "rfm_segment"
        FROM (
          SELECT
            "t42"."pid",
            CAST(CASE
              WHEN "t42"."days" <= "t42"."recent_days"
              THEN 5
              WHEN "t42"."days" <= "t42"."at_risk_days"
              THEN 4
              WHEN "t42"."days" <= "t42"."lapsed_days"
              THEN 3
              WHEN "t42"."days" <= "t42"."churned_days"
              THEN 2
              ELSE 1
            END AS BIGINT) AS "r_score",
            CAST(FLOOR(
              CAST((
                (
                  RANK() OVER (ORDER BY "t42"."n" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
                ) * 5
              ) AS DOUBLE PRECISION) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "f_score",
            CAST(FLOOR(
              CAST((
                (
                  RANK() OVER (
                    ORDER BY "t42"."money" ASC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                  ) - 1
                ) * 5
              ) AS DOUBLE PRECISION) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "m_score"
          FROM (
            SELECT
              "t19"."pid",
              CAST(FLOOR(
                CAST((
                  (
                    EXTRACT('epoch' FROM CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)) * 1000000
                  ) - (
                    EXTRACT('epoch' FROM "t19"."last_order_at") * 1000000
                  )
                ) AS DOUBLE PRECISION) / (
                  86400000000
                )
              ) AS BIGINT) AS "days",
              "t19"."orders_count" AS "n",
              "t19"."revenue_total" AS "money",
              "t40"."at_risk_days",
              "t40"."lapsed_days",
              "t40"."churned_days",
              "t40"."recent_days"
            FROM (
              SELECT
                "t7"."pid",
                COUNT(*) AS "orders_count",
                COALESCE(SUM("t7"."revenue"), 0) AS "revenue_total",
                MIN("t7"."ts") AS "first_order_at",
                MAX("t7"."ts") AS "last_order_at",
                COUNT(*) FILTER(WHERE
                  "t7"."ts" > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMPTZ)) AS "orders_60d",
                COUNT(*) FILTER(WHERE
                  (
                    "t7"."ts" > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMPTZ)
                  )
                  AND (
                    "t7"."ts" <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMPTZ)
                  )) AS "orders_prior_60d"
              FROM "t4" AS "t7"
              GROUP BY
                1
            ) AS "t19"
            CROSS JOIN (
              SELECT
                CASE
                  WHEN "t31"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t31"."q_at_risk") AS BIGINT), 1)
                  ELSE 90
                END AS "at_risk_days",
                GREATEST(
                  CASE
                    WHEN "t31"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t31"."q_lapsed") AS BIGINT), 1)
                    ELSE 180
                  END,
                  CASE
                    WHEN "t31"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t31"."q_at_risk") AS BIGINT), 1)
                    ELSE 90
                  END + 1
                ) AS "lapsed_days",
                GREATEST(
                  CASE
                    WHEN "t31"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t31"."q_churned") AS BIGINT), 1)
                    ELSE 365
                  END,
                  GREATEST(
                    CASE
                      WHEN "t31"."n_gaps" >= 30
                      THEN GREATEST(CAST(CEIL("t31"."q_lapsed") AS BIGINT), 1)
                      ELSE 180
                    END,
                    CASE
                      WHEN "t31"."n_gaps" >= 30
                      THEN GREATEST(CAST(CEIL("t31"."q_at_risk") AS BIGINT), 1)
                      ELSE 90
                    END + 1
                  ) + 1
                ) AS "churned_days",
                LEAST(
                  CASE
                    WHEN "t31"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t31"."q_recent") AS BIGINT), 1)
                    ELSE 30
                  END,
                  CASE
                    WHEN "t31"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t31"."q_at_risk") AS BIGINT), 1)
                    ELSE 90
                  END - 1
                ) AS "recent_days"
              FROM (
                SELECT
                  COUNT(*) AS "n_gaps",
                  PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY
                    "t26"."gap") AS "q_at_risk",
                  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
                    "t26"."gap") AS "q_lapsed",
                  PERCENTILE_CONT(0.97) WITHIN GROUP (ORDER BY
                    "t26"."gap") AS "q_churned",
                  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
                    "t26"."gap") AS "q_recent"
                FROM "t24" AS "t26"
              ) AS "t31"
            ) AS "t40"
            WHERE
              EXISTS(
                SELECT
                  1
                FROM "t12" AS "t16"
                WHERE
                  "t19"."pid" = "t16"."pid"
              )
          ) AS "t42"
        ) AS "t48"
      ) AS "t51"
        ON "t49"."pid" = "t51"."pid"
    ) AS "t52"
  ) AS "t53"
) AS "t54"
WHERE
  COALESCE("t54"."rfm_segment" = 'Champions', FALSE)
  AND COALESCE("t54"."p_alive" > 0.5, FALSE)
  AND COALESCE("t54"."lifecycle_stage" <> 'churned', FALSE)
  AND COALESCE("t54"."days_since_last_seen" <= 30, FALSE)
