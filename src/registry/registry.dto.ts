import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { type Stage, STAGES } from './domain/model-version';

export class TransitionStageRequestDto {
  @ApiProperty({ enum: STAGES, example: 'Production' })
  @IsIn(STAGES)
  stage!: Stage;

  @ApiPropertyOptional({ example: 'Better ROC AUC on the March holdout', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  @ApiPropertyOptional({
    description: 'Promote even when the promotion gate refuses (needs a reason)',
    example: false,
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

export class ReasonRequestDto {
  @ApiPropertyOptional({ example: 'Superseded; keeping it for the record', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RollbackRequestDto extends ReasonRequestDto {
  @ApiPropertyOptional({
    description: 'Version to restore; default: the one that was Production before the current one',
    example: 1,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  toVersion?: number;
}

export class SetAliasRequestDto {
  @ApiProperty({ example: 2 })
  @IsInt()
  @Min(1)
  version!: number;
}

export class UpdateModelRequestDto {
  @ApiPropertyOptional({ example: 'Credit default risk, gradient-boosted trees', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ example: { team: 'risk', pii: 'no' } })
  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;
}

export class RegisterFromRunRequestDto {
  @ApiPropertyOptional({ description: "Model name; default: the signature's name", example: 'credit' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  name?: string;

  @ApiPropertyOptional({ example: 'Retrained on November feedback' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: STAGES, example: 'Staging' })
  @IsOptional()
  @IsIn(STAGES)
  stage?: Stage;

  @ApiPropertyOptional({ example: 'weekly retrain' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

/** Examples for Swagger responses (the shapes are the domain types in `domain/`). */
export const MODEL_VERSION_EXAMPLE = {
  name: 'credit',
  version: 2,
  stage: 'Production',
  aliases: ['champion'],
  sha256: '9f2c0b6c1e4f4a8fb0c7c5a4d8b1e3f2a6d9c0b1e2f3a4b5c6d7e8f9a0b1c2d3',
  sizeBytes: 48213,
  signature: { schemaVersion: 1, name: 'credit', task: 'binary', primaryMetric: 'roc_auc', '…': '…' },
  metrics: { roc_auc: 0.861, accuracy: 0.83, log_loss: 0.39 },
  params: { n_estimators: 100, max_depth: 4, learning_rate: 0.1 },
  runId: '0b6f3c9e-6a47-4d1e-9a51-3d0f2f1c9b7e',
  parentVersion: 1,
  datasetFingerprint: '5d41402abc4b2a76b9719d911017c592…',
  gitCommit: '54d628a',
  description: 'Retrained on November feedback',
  createdAt: '2026-11-23T07:40:12.345Z',
  createdBy: 'admin:alice',
  updatedAt: '2026-11-23T07:41:02.001Z',
};

export const AUDIT_EXAMPLE = {
  id: 7,
  at: '2026-11-23T07:41:02.001Z',
  actor: 'admin:alice',
  action: 'transition',
  model: 'credit',
  version: 2,
  fromStage: 'Staging',
  toStage: 'Production',
  reason: 'Better ROC AUC on the March holdout',
  details: { gate: 'roc_auc 0.861 vs Production v1 0.845 (difference 0.016, tolerance 0.01)', forced: false },
};

export const PROMOTION_REFUSED_EXAMPLE = {
  code: 'PROMOTION_REFUSED',
  message:
    "Promotion of credit v3 to Production refused: roc_auc of v3 is 0.812, worse than Production v2's 0.861 by 0.049 (tolerance 0.01). Pass force with a reason to override.",
  details: {
    metric: 'roc_auc',
    candidateVersion: 3,
    candidate: 0.812,
    productionVersion: 2,
    production: 0.861,
    difference: -0.049,
    tolerance: 0.01,
  },
  requestId: '6a0b…',
};
