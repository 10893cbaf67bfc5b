"""Request figures kept in plain dicts come out as Prometheus counters and cumulative histograms."""
from ugene.metrics import Metrics


async def test_counts_and_latency_buckets_are_cumulative_with_their_sum():
    metrics = Metrics()
    for seconds in (0.0004, 0.001, 0.002, 0.3, 42):
        metrics.observe("general", "status", "100000", seconds)
    metrics.observe("-", "-", "002000", 0.0001)
    text = (await metrics.render(None)).decode()
    assert 'ugene_requests_total{code="100000",module="general",param="status"} 5.0' in text
    assert 'ugene_requests_total{code="002000",module="-",param="-"} 1.0' in text
    bucket = 'ugene_request_seconds_bucket{{le="{}",module="general",param="status"}} {}'
    for le, count in (("0.001", 2.0), ("0.0025", 3.0), ("0.25", 3.0), ("0.5", 4.0), ("10.0", 4.0), ("+Inf", 5.0)):
        assert bucket.format(le, count) in text
    assert 'ugene_request_seconds_count{module="general",param="status"} 5.0' in text
    assert 'ugene_request_seconds_sum{module="general",param="status"} 42.3034' in text
