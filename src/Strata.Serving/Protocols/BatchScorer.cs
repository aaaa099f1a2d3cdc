using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>Scores rows of request inputs with a loaded model (features through its compiled view, then the model, each
/// recorded in the prediction log); a row the view rejects is a protocol 400 naming the row and the input.</summary>
public static class BatchScorer
{
    public static double[] Score(ServingService serving, LoadedModel model, IReadOnlyList<double[]> rows, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        var scores = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            try
            {
                scores[r] = serving.Predict(model, rows[r], startedTimestamp, traceId).Prediction;
            }
            catch (InputValidationException e)
            {
                throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{e.Field}' {e.Reason} (row {r})"));
            }
        }
        return scores;
    }
}
