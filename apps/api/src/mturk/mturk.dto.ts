import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { MAX_PAGE_OFFSET, MAX_PAGE_SIZE } from '@tally/common';
import type { AccessKeyView, NewAccessKey } from '@tally/mturk';

export class CreateAccessKeyDto {
  @ApiPropertyOptional({ description: 'a name to recognise the key by (e.g. "psiTurk laptop")', maxLength: 200 })
  @IsOptional() @IsString() @Length(0, 200)
  label?: string;
}

export class AccessKeysQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE) limit?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PAGE_OFFSET }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_PAGE_OFFSET) offset?: number;
}

export class AccessKeyDto {
  @ApiProperty({ example: 'AKTLJ3N5Q2XW7YB4KD6M' }) accessKeyId: string;
  @ApiProperty() label: string;
  @ApiProperty({ description: 'last four characters of the secret' }) secretHint: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt: string | null;
}

export class NewAccessKeyDto extends AccessKeyDto {
  @ApiProperty({ description: 'shown ONCE; Tally keeps it only encrypted and cannot show it again' }) secretAccessKey: string;
}

export class AccessKeyPageDto {
  @ApiProperty({ type: [AccessKeyDto] }) items: AccessKeyDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toAccessKeyDto(k: AccessKeyView): AccessKeyDto {
  return { accessKeyId: k.accessKeyId, label: k.label, secretHint: k.secretHint, createdAt: iso(k.createdAt)!, lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt) };
}

export function toNewAccessKeyDto(k: NewAccessKey): NewAccessKeyDto {
  return { ...toAccessKeyDto(k), secretAccessKey: k.secretAccessKey };
}
