using System.Buffers;
using System.Diagnostics;
using Strata.Contracts.Features;
using Strata.Serving.Models;

namespace Strata.Serving.Traffic;

/// <summary>Mirrors answered requests to their route's shadow version (<see cref="ShadowMirror"/>): the shadow scores
/// the same request as the primary did (its own feature view, its own online features, its own signature), off the
/// request path, and its answers are compared with the primary's row by row. Nothing a shadow does is logged as a
/// prediction or returned.</summary>
public sealed class TrafficRouter(ModelHost host, ShadowMirror mirror, FeatureAwarePredictor featureAware)
{
    /// <summary>The policy of a model addressed without a version, or null (the default alias answers).</summary>
    public RoutedPolicy? PolicyOf(string model) => host.PolicyOf(model);

    /// <summary>Mirrors a <c>/predict</c> body (named inputs or entity keys) answered with <paramref name="primary"/>.</summary>
    public void MirrorPredict(RoutedPolicy policy, ServableModel shadow, byte[] body, double[] primary, long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Shadow is not { } stats)
        {
            return;
        }
        mirror.Mirror(stats, primary, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, async ct =>
        {
            var model = shadow as MlNetModel ?? throw new InvalidOperationException($"v{shadow.VersionText} is an ONNX model: /predict's named inputs cannot be mirrored to it");
            var json = new ReadOnlySequence<byte>(body);
            try
            {
                var rows = InputRowReader.ReadBatch(json, model.View.Inputs, out _);
                var scores = new double[rows.Count];
                for (var r = 0; r < scores.Length; r++)
                {
                    scores[r] = model.Score(model.Features.Compute(rows[r]));
                }
                return scores;
            }
            catch (Contracts.Errors.InputValidationException) when (model.View.Sources is { Count: > 0 })
            {
                var joinKeys = await featureAware.JoinKeysAsync(model.View, ct);
                return (await featureAware.PredictAsync(model, json, joinKeys, Stopwatch.GetTimestamp(), null, ct, record: false)).Predictions;
            }
        });
    }

    /// <summary>Mirrors a tensor request (KServe V1, Open Inference) given as <paramref name="inputs"/> (before binding:
    /// the shadow binds them to its own signature, or fetches its own features for entity keys).</summary>
    public void MirrorInfer(RoutedPolicy policy, ServableModel primaryModel, ServableModel shadow, IReadOnlyList<Tensor> inputs, Tensor[] primaryOutputs,
        long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(primaryModel);
        if (policy.Shadow is not { } stats)
        {
            return;
        }
        var primary = FirstOfRows(Array.Find(primaryOutputs, o => o.Name == primaryModel.PrimaryOutput));
        mirror.Mirror(stats, primary, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, async ct =>
        {
            var given = await featureAware.EntityInputsAsync(shadow, inputs, ct) ?? inputs;
            var outputs = shadow.Infer(shadow.Bind(given), [shadow.PrimaryOutput]);
            return FirstOfRows(outputs[0]);
        });
    }

    /// <summary>The first element of each row of a numeric tensor (a probability or a score per row); empty otherwise.</summary>
    public static double[] FirstOfRows(Tensor? tensor)
    {
        if (tensor is null || tensor.Data is string[])
        {
            return [];
        }
        var values = TensorDatatype.ToDoubles(tensor.Data);
        var rows = (int)tensor.Rows;
        var perRow = rows == 0 ? 0 : values.Length / rows;
        if (perRow == 0)
        {
            return [];
        }
        var first = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            first[r] = values[r * perRow];
        }
        return first;
    }
}
