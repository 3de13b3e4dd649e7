import { AppError } from '../../src/common/errors';
import { ROWS_PER_MESSAGE, TrainingProcess } from '../../src/monitoring/training-process.adapter';
import { loadIris } from '../../src/training/datasets/iris.dataset';
import { trainModel } from '../../src/training/training.service';

/** The retraining child process, for real (iris logistic regression: the fastest model there is). */
describe('TrainingProcess', () => {
  const training = new TrainingProcess();

  it('trains in a child process and returns the artifacts and the test split', async () => {
    const output = await training.run({
      dataset: 'iris',
      algorithm: 'logreg',
      seed: 42,
      hyperParameters: {},
      extraRows: [
        {
          features: { sepal_length: 5.0, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2 },
          label: 'setosa',
        },
      ],
    });
    expect(output.onnx).toBeInstanceOf(Uint8Array);
    expect(output.onnx.length).toBeGreaterThan(100);
    expect(output.signature).toMatchObject({ name: 'iris', family: 'logistic_regression' });
    expect(output.reference.rowCount).toBeGreaterThan(0);
    expect(output.test.rows.length).toBe(output.test.actual.length);
    expect(output.test.rows.length).toBeGreaterThan(0);
  }, 60_000);

  it('sends extra rows over several messages, all of them, in order', async () => {
    const iris = loadIris().rows;
    const count = 2 * ROWS_PER_MESSAGE + 500;
    const extraRows = Array.from({ length: count }, (_, index) => iris[index % iris.length]!);
    const base = await trainModel({ dataset: 'iris', algorithm: 'logreg', seed: 42 });
    const output = await training.run({
      dataset: 'iris',
      algorithm: 'logreg',
      seed: 42,
      hyperParameters: {},
      extraRows,
    });
    expect((output.metrics as { train: { rows: number } }).train.rows).toBe(base.metrics.train.rows + count);

    // The data-quality gate names the bad row's position: it is where it was sent, in the last message.
    const bad = 2 * ROWS_PER_MESSAGE + 321;
    extraRows[bad - 1] = {
      ...extraRows[bad - 1]!,
      features: { ...extraRows[bad - 1]!.features, sepal_length: -1 },
    };
    await expect(
      training.run({ dataset: 'iris', algorithm: 'logreg', seed: 42, hyperParameters: {}, extraRows }),
    ).rejects.toMatchObject({ message: expect.stringContaining(`outside [0, 30] at rows ${bad}`) });
  }, 60_000);

  it("reports the training's own error code", async () => {
    const failure = training.run({
      dataset: 'iris',
      algorithm: 'logreg',
      seed: 42,
      hyperParameters: { bogus: 1 },
      extraRows: [],
    });
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(failure).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('bogus'),
    });
  }, 60_000);

  it('kills a run that exceeds its time limit', async () => {
    await expect(
      training.run(
        { dataset: 'credit', algorithm: 'gbdt', seed: 42, hyperParameters: {}, extraRows: [] },
        300,
      ),
    ).rejects.toThrow(/did not finish/);
  }, 60_000);
});
